// Locates and loads the compiled addon (tpserve_native.node): $TPSERVE_NATIVE_ADDON, else
// native/build/ under the repository root. The raw, untyped surface stays in this file.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EngineOptions, ModelInfo, StepInput, StepOutput } from './types';

export interface RawEngine {
  step(input: StepInput): Promise<StepOutput>;
  info(): ModelInfo;
  dispose(): void;
}

export interface RawAddon {
  loadEngine(options: EngineOptions, onProgress?: (stage: string, done: number, total: number) => void): Promise<RawEngine>;
  createCommId(device: string, backend?: string, host?: string): string;
  /** Best read bandwidth (GB/s) streaming `bytes` with `threads` engine threads. */
  measureBandwidth(bytes?: number, threads?: number): number;
  cudaCompiled: boolean;
  /** Whether the Gloo communicator (CPU ranks on several hosts) was built. */
  glooCompiled: boolean;
}

/** The repository root: the nearest directory above `from` holding package.json and native/. */
export function findRepoRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the tpserve repository root above ${from}`);
    dir = parent;
  }
}

let cached: RawAddon | undefined;

export function loadAddon(): RawAddon {
  if (cached) return cached;
  const path = process.env.TPSERVE_NATIVE_ADDON ?? join(findRepoRoot(), 'native', 'build', 'tpserve_native.node');
  if (!existsSync(path)) {
    throw new Error(`native addon not found at ${path}; build it with \`npm run build\``);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cached = require(path) as RawAddon;
  return cached;
}
