// System packages the build and the tests need, installed with apt-get when missing (as root on
// Debian/Ubuntu); elsewhere a clear message names what to install. redis-server backs the
// control-plane tests, libgloo-dev the CPU collectives across hosts, iproute2 the tests that use
// network namespaces as hosts, openssl their mutual-TLS certificates, libdnnl-dev (oneDNN) the
// library side of native/bench/prefill_gemm_bench.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const REQUIRED = [
  { pkg: 'cmake', present: () => which('cmake') },
  { pkg: 'g++', present: () => which('g++') },
  { pkg: 'libgtest-dev', present: () => existsSync('/usr/include/gtest/gtest.h') },
  { pkg: 'nlohmann-json3-dev', present: () => existsSync('/usr/include/nlohmann/json.hpp') },
  {
    pkg: 'libopenblas-dev',
    present: () =>
      existsSync('/usr/include/x86_64-linux-gnu/cblas.h') ||
      existsSync('/usr/include/openblas/cblas.h') ||
      existsSync('/usr/include/aarch64-linux-gnu/cblas.h'),
  },
  { pkg: 'redis-server', present: () => which('redis-server') },
  { pkg: 'libgloo-dev', present: () => existsSync('/usr/include/gloo/allreduce_ring.h') },
  { pkg: 'iproute2', present: () => which('ip') },
  { pkg: 'openssl', present: () => which('openssl') },
  { pkg: 'libdnnl-dev', present: () => existsSync('/usr/include/dnnl.hpp') },
];

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function ensureSystemPackages(log) {
  const missing = REQUIRED.filter((r) => !r.present()).map((r) => r.pkg);
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !which('apt-get')) {
    throw new Error(`missing system packages: ${missing.join(' ')} (install them, e.g. apt-get install ${missing.join(' ')})`);
  }
  log(`installing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
  if (update.status !== 0) throw new Error('apt-get update failed');
  const install = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  if (install.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed`);
}
