// The KV cache dtype on the CPU: kvCacheDtype 'auto' (the default) gives a bf16 checkpoint a bf16
// cache, twice the blocks of an f32 one in the same byte budget, and an f32 checkpoint an f32
// cache; the bf16 cache's logits stay within bf16 rounding of the f32 cache's (1e-2 of the largest
// |logit|) and are not the same bits (the cache really is bf16), over a prefill in two chunks, the
// second reading the first from the cache. Through a worker process (WorkerGroup, gRPC) the dtype
// asked for reaches the worker's engine.
// Run: npx vitest run test/model/kv-cache-dtype.test.ts (needs the built addon)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineOptions, ModelInfo } from '../../libs/native/src/types';
import { WorkerGroup } from '../../libs/worker-group/src/worker-group';
import { ODD_SPECS } from '../helpers/checkpoint-specs';
import { EngineDriver, loadEngine } from '../helpers/engine-driver';
import { compareLogits } from '../helpers/logits-compare';
import { makeTempDir, randomTokens, removeDir, seededRandom, writeRandomCheckpoint } from '../helpers/random-checkpoint';

/** Bytes of one f32 KV block of this model: K and V of every layer. */
function f32BlockBytes(info: ModelInfo): number {
  return info.numLayers * 2 * info.numKvHeads * info.kvBlockSize * info.headDim * 4;
}

describe.each(['seed-gqa-bf16', 'seed-gqa-f32'])('KV cache dtype of %s', (specName) => {
  const spec = ODD_SPECS[specName]!;
  let dir = '';
  beforeAll(() => {
    dir = makeTempDir(`kv-dtype-${specName}`);
    writeRandomCheckpoint(dir, spec);
  });
  afterAll(() => {
    if (dir) removeDir(dir);
  });

  async function blocksFor(options: Partial<EngineOptions>, budget: number): Promise<number> {
    const engine = await loadEngine(dir, { numKvBlocks: 0, kvCacheBytes: budget, ...options });
    try {
      return engine.info().numKvBlocks;
    } finally {
      engine.dispose();
    }
  }

  /** A byte budget of exactly 40 f32 blocks of this model. */
  async function budgetOf40(): Promise<number> {
    const probe = await loadEngine(dir);
    try {
      return 40 * f32BlockBytes(probe.info());
    } finally {
      probe.dispose();
    }
  }

  it(`auto gives the cache of ${spec.dtype === 'bf16' ? 'bf16' : 'f32'}`, async () => {
    const budget = await budgetOf40();
    const f32 = await blocksFor({ kvCacheDtype: 'f32' }, budget);
    expect(f32).toBe(40);
    expect(await blocksFor({ kvCacheDtype: 'bf16' }, budget)).toBe(80);
    expect(await blocksFor({}, budget)).toBe(spec.dtype === 'bf16' ? 80 : 40);
  });

  it('a worker process takes the dtype the group asks for', async () => {
    const budget = await budgetOf40();
    const want = spec.dtype === 'bf16' ? 'f32' : 'bf16'; // the other one than auto's
    const group = await WorkerGroup.start({ modelDir: dir, device: 'cpu', tp: 1, numThreadsPerRank: 1, kvCacheBytes: budget, kvCacheDtype: want });
    try {
      expect(group.info().numKvBlocks).toBe(want === 'f32' ? 40 : 80);
    } finally {
      await group.close();
    }
  });

  it.runIf(spec.dtype === 'bf16')('a bf16 cache stays within bf16 rounding of an f32 one', async () => {
    const tokens = randomTokens(19, spec.vocabSize, seededRandom(spec.seed + 7));
    const rowsWith = async (kvCacheDtype: EngineOptions['kvCacheDtype']): Promise<Float32Array[]> => {
      const engine = await loadEngine(dir, { kvCacheDtype });
      try {
        return await new EngineDriver(engine).runChunkedPrefill(tokens, [10, 9]);
      } finally {
        engine.dispose();
      }
    };
    const f32 = await rowsWith('f32');
    const bf16 = await rowsWith(undefined); // the default
    const diff = compareLogits(bf16, f32);
    expect(diff.relative).toBeLessThan(1e-2);
    expect(diff.maxDiff).toBeGreaterThan(0);
  });
});
