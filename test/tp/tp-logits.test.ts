// Tensor parallelism through real worker processes (gRPC, shared-memory collectives): logits with
// tp 2 and 4 equal the in-process tp 1 engine within 1e-5 of max |logit| in fp32 (one prompt,
// chunked prefill, a mixed batch of prefill chunks and decodes), and generation (greedy and
// seeded sampling) yields the same tokens at every tp.
// Needs `npm run build` (dist/ and the addon). Run: npx vitest run test/tp/tp-logits.test.ts
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeEngine } from '../../libs/native/src/native-engine';
import type { WorkerGroup } from '../../libs/worker-group/src/worker-group';
import { loadEngine, logitRows, sampledToken, type ChunkRequest, type EngineDriver } from '../helpers/engine-driver';
import { expectLogitsClose } from '../helpers/logits-compare';
import { makeTempDir, randomTokens, removeDir, seededRandom, writeRandomCheckpoint } from '../helpers/random-checkpoint';
import { driverOf, startGroup, TP_SPECS } from '../helpers/tp-cluster';

const TP_DEGREES = [2, 4];
const TOLERANCE = 1e-5;

interface BatchRun {
  rows: Float32Array[];
  tokens: number[];
}

/**
 * Three sequences over five steps: a whole prompt next to a first prefill chunk, then a decode,
 * the second chunk and a new prompt together, then decodes of all three. Feeds back the tokens
 * the executor itself samples; returns every logits row and sampled token in order.
 */
async function runMixedBatch(driver: EngineDriver, vocabSize: number): Promise<BatchRun> {
  const random = seededRandom(5);
  const [a, b, c] = [driver.newSeqId(), driver.newSeqId(), driver.newSeqId()];
  const promptA = randomTokens(23, vocabSize, random);
  const promptB = randomTokens(30, vocabSize, random);
  const promptC = randomTokens(5, vocabSize, random);
  const run: BatchRun = { rows: [], tokens: [] };
  const last = new Map<number, number>();
  const step = async (chunks: ChunkRequest[]): Promise<void> => {
    const out = await driver.step(chunks);
    for (const chunk of chunks) {
      run.rows.push(...logitRows(out, chunk.seqId).map((row) => row.slice()));
      if (chunk.sample) {
        last.set(chunk.seqId, sampledToken(out, chunk.seqId));
        run.tokens.push(last.get(chunk.seqId)!);
      }
    }
  };
  await step([
    { seqId: a, tokens: promptA, logits: 'all', sample: true },
    { seqId: b, tokens: promptB.slice(0, 12), logits: 'all' },
  ]);
  await step([
    { seqId: a, tokens: [last.get(a)!], logits: 'last', sample: true },
    { seqId: b, tokens: promptB.slice(12), logits: 'all', sample: true },
    { seqId: c, tokens: promptC, logits: 'last', sample: true },
  ]);
  for (let i = 0; i < 3; i++) {
    await step([a, b, c].map((seqId) => ({ seqId, tokens: [last.get(seqId)!], logits: 'last' as const, sample: true })));
  }
  await driver.finish([a, b, c]);
  return run;
}

describe.each(Object.keys(TP_SPECS))('tp 1 / 2 / 4 agree on %s', (specName) => {
  const spec = TP_SPECS[specName];
  let dir = '';
  let engine: NativeEngine | undefined;
  const groups: WorkerGroup[] = [];
  let reference: EngineDriver;
  const drivers = new Map<number, EngineDriver>();

  beforeAll(async () => {
    dir = makeTempDir(`tp-${specName}`);
    writeRandomCheckpoint(dir, spec);
    engine = await loadEngine(dir, { numThreads: 1, numKvBlocks: 64 });
    reference = driverOf(engine);
    for (const tp of TP_DEGREES) {
      const group = await startGroup(dir, tp);
      groups.push(group);
      drivers.set(tp, driverOf(group));
    }
  });

  afterAll(async () => {
    await Promise.all(groups.map((g) => g.close()));
    engine?.dispose();
    if (dir) removeDir(dir);
  });

  it('reports the sharding of every rank in its model info', () => {
    groups.forEach((group, i) => {
      expect(group.size).toBe(TP_DEGREES[i]);
      expect(group.info().tpSize).toBe(TP_DEGREES[i]);
      expect(group.info().vocabSize).toBe(spec.vocabSize);
      expect(group.info().numHeads).toBe(spec.numHeads);
    });
  });

  it('computes the same prefill logits (every position, 40 tokens over 3 KV blocks)', async () => {
    const tokens = randomTokens(40, spec.vocabSize, seededRandom(1));
    const expected = await reference.runPrefill(tokens);
    for (const tp of TP_DEGREES) {
      const rows = await drivers.get(tp)!.runPrefill(tokens);
      expectLogitsClose(rows, expected, TOLERANCE, `prefill tp ${tp} vs tp 1`);
    }
  });

  it('computes the same logits with chunked prefill and decode', async () => {
    const tokens = randomTokens(29, spec.vocabSize, seededRandom(2));
    const expected = await reference.runChunkedPrefill(tokens, [7, 16, 5]);
    const prompt = tokens.slice(0, 9);
    const expectedDecode = await reference.runDecode(prompt, tokens.slice(9, 17));
    for (const tp of TP_DEGREES) {
      const driver = drivers.get(tp)!;
      expectLogitsClose(await driver.runChunkedPrefill(tokens, [7, 16, 5]), expected, TOLERANCE, `chunked tp ${tp}`);
      expectLogitsClose(await driver.runDecode(prompt, tokens.slice(9, 17)), expectedDecode, TOLERANCE, `decode tp ${tp}`);
    }
  });

  it('computes the same logits and tokens for a mixed batch of prefill chunks and decodes', async () => {
    const expected = await runMixedBatch(reference, spec.vocabSize);
    expect(expected.rows.length).toBe(23 + 12 + 1 + 18 + 1 + 9);
    for (const tp of TP_DEGREES) {
      const run = await runMixedBatch(drivers.get(tp)!, spec.vocabSize);
      expect(run.tokens, `tp ${tp} sampled tokens`).toEqual(expected.tokens);
      expectLogitsClose(run.rows, expected.rows, TOLERANCE, `mixed batch tp ${tp}`);
    }
  });

  it('generates the same tokens greedily', async () => {
    const prompt = randomTokens(11, spec.vocabSize, seededRandom(3));
    const expected = await reference.runGenerate(prompt, 24, { temperature: 0 });
    for (const tp of TP_DEGREES) {
      expect(await drivers.get(tp)!.runGenerate(prompt, 24, { temperature: 0 }), `greedy tp ${tp}`).toEqual(expected);
    }
  });

  it('samples the same tokens for a seeded request (draws keyed by seed and position)', async () => {
    const prompt = randomTokens(6, spec.vocabSize, seededRandom(4));
    const params = { temperature: 0.9, topP: 0.95, seed: 1234 };
    const expected = await reference.runGenerate(prompt, 16, params);
    for (const tp of TP_DEGREES) {
      expect(await drivers.get(tp)!.runGenerate(prompt, 16, params), `seeded tp ${tp}`).toEqual(expected);
    }
  });
});
