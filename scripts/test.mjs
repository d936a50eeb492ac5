#!/usr/bin/env node
// Runs every test that needs no GPU: the native gtest suite (ctest) and the TypeScript suites
// (vitest: unit specs, addon and model tests, multi-process integration). Assumes build.mjs ran.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = process.env.TPSERVE_NATIVE_BUILD_DIR ?? join(root, 'native', 'build');

function run(label, cmd, args) {
  process.stderr.write(`[test] ${label}\n`);
  const result = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
  return result.status === 0;
}

const nativeOk = run('native C++ tests (ctest)', 'ctest', [
  '--test-dir', buildDir, '--output-on-failure', '-j', String(Math.max(1, cpus().length)),
]);
const tsOk = run('TypeScript tests (vitest)', process.execPath, [
  join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...process.argv.slice(2),
]);
process.exit(nativeOk && tsOk ? 0 : 1);
