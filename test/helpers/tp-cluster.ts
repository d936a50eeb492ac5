// Helpers for the tensor-parallel tests: checkpoints whose heads allow tp 1, 2 and 4 (with a vocab
// that no tp divides, so the vocab-parallel split is uneven), worker groups of real processes,
// an EngineDriver over any StepExecutor, and checks that processes are gone.
import * as fs from 'node:fs';
import type { NativeEngine } from '../../libs/native/src/native-engine';
import type { StepExecutor } from '../../libs/native/src/step-executor';
import { WorkerGroup, type WorkerGroupOptions } from '../../libs/worker-group/src/worker-group';
import { EngineDriver, testDevice } from './engine-driver';
import type { CheckpointSpec } from './random-checkpoint';

export const TP_SPECS: Record<string, CheckpointSpec> = {
  // Seed-OSS-shaped, every bias on (o_proj and down_proj biases must be added once, after the
  // all-reduce), head_dim 16 != 64 / 8, 8 q / 4 kv heads, vocab 1001 (ranks of 501/500 or 251/250 rows)
  'seed-all-bias-f32': {
    architecture: 'SeedOssForCausalLM', dtype: 'f32', vocabSize: 1001, hiddenSize: 64, intermediateSize: 96,
    numLayers: 2, numHeads: 8, numKvHeads: 4, headDim: 16, attentionBias: true, attentionOutBias: true,
    mlpBias: true, ropeTheta: 1e7, numShards: 2, seed: 31,
  },
  // Llama with tied embeddings: the vocab-parallel embedding and lm_head share one slice
  'llama-tied-f32': {
    architecture: 'LlamaForCausalLM', dtype: 'f32', vocabSize: 1001, hiddenSize: 48, intermediateSize: 80,
    numLayers: 2, numHeads: 4, numKvHeads: 4, tieWordEmbeddings: true, seed: 32,
  },
};

/** Starts `tp` real worker processes on `modelDir` (1 thread each: the tests run on 2 cores). */
export function startGroup(modelDir: string, tp: number, options: Partial<WorkerGroupOptions> = {}): Promise<WorkerGroup> {
  return WorkerGroup.start({
    modelDir,
    device: testDevice(),
    tp,
    numThreadsPerRank: 1,
    numKvBlocks: 64,
    loadTimeoutMs: 60_000,
    stepTimeoutMs: 60_000,
    ...options,
  });
}

/**
 * The test EngineDriver over a worker group (or any StepExecutor): it only calls info() and
 * step(), so the NativeEngine type it declares is a formality here.
 */
export function driverOf(executor: StepExecutor): EngineDriver {
  return new EngineDriver(executor as unknown as NativeEngine);
}

/**
 * False once the process has exited: process.kill(pid, 0) throws ESRCH, or it is a zombie (an
 * orphan that exited waits for init to reap it, which in some sandboxes takes about a second).
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;  // gone while we looked
  }
}

/** Resolves with the pids still alive after waiting up to `timeoutMs` for all to exit. */
export async function waitForExit(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter(isAlive);
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await new Promise((r) => setTimeout(r, 50));
  }
}
