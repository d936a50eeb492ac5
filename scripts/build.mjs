#!/usr/bin/env node
// Builds everything `npm start` and `npm test` need on a fresh clone, installing what is missing:
// system packages (Debian: cmake, g++, gtest, nlohmann-json, OpenBLAS) when run as root,
// npm dependencies, the native engine + addon (CMake), and the TypeScript (tsc).
//   node scripts/build.mjs [--native-only] [--no-ts]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemPackages } from './system-packages.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const buildDir = process.env.TPSERVE_NATIVE_BUILD_DIR ?? join(root, 'native', 'build');

function log(message) {
  process.stderr.write(`[build] ${message}\n`);
}

function run(cmd, cmdArgs, options = {}) {
  const result = spawnSync(cmd, cmdArgs, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) throw new Error(`${cmd} could not start: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed with exit code ${result.status}`);
}

function ensureNodeModules() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log('installing npm dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

function nodeIncludeDir() {
  const candidates = [
    process.env.NODE_INCLUDE_DIR,
    join(dirname(dirname(process.execPath)), 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  const found = candidates.find((dir) => existsSync(join(dir, 'node_api.h')));
  if (!found) throw new Error(`Node headers (node_api.h) not found in ${candidates.join(', ')}; set NODE_INCLUDE_DIR`);
  return found;
}

function buildNative() {
  const addonApi = execFileSync(process.execPath, ['-p', "require('node-addon-api').include_dir"], { cwd: root })
    .toString()
    .trim();
  if (!existsSync(join(buildDir, 'CMakeCache.txt'))) {
    log(`configuring native/ in ${buildDir}`);
    run('cmake', [
      '-S', join(root, 'native'), '-B', buildDir, '-DCMAKE_BUILD_TYPE=Release', '-DTPSERVE_BUILD_ADDON=ON',
      `-DNODE_INCLUDE_DIR=${nodeIncludeDir()}`, `-DNODE_ADDON_API_DIR=${join(root, addonApi)}`,
    ]);
  }
  log('building native/ (C++ core, addon, tests, benchmarks)');
  run('cmake', ['--build', buildDir, '-j', String(Math.max(1, cpus().length))]);
}

try {
  ensureSystemPackages(log);
  ensureNodeModules();
  buildNative();
  if (!args.has('--native-only') && !args.has('--no-ts')) {
    log('compiling TypeScript (tsc)');
    run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')]);
  }
} catch (err) {
  process.stderr.write(`[build] error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
