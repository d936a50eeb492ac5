// Sampling: greedy (temperature 0) picks the reference's argmax; a seed fixes the tokens drawn at
// temperature 1 (alone or batched), different seeds differ; vocabLimit is respected.
// Run: npx vitest run test/model/sampling.test.ts (needs the built addon)
import { describe, expect, it } from 'vitest';
import { sampledToken } from '../helpers/engine-driver';
import { argmax, topTwoGap } from '../helpers/logits-compare';
import { useModelFixture } from '../helpers/model-fixture';
import { randomTokens, seededRandom } from '../helpers/random-checkpoint';

/** Two logits closer than this (relative to max |logit|) may legitimately swap places. */
const TIE_TOLERANCE = 2e-3;

function maxAbs(row: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < row.length; i++) max = Math.max(max, Math.abs(row[i]));
  return max;
}

describe.each(['seed-gqa-f32', 'llama-bias-mqa-bf16'])('sampling: %s', (specName) => {
  // an f32 KV cache: the greedy picks are held to the float64 reference's argmax
  const model = useModelFixture(specName, { kvCacheDtype: 'f32' });

  it('greedy picks the argmax of the reference’s last logits', async () => {
    const { spec, driver, reference } = model();
    const random = seededRandom(spec.seed + 900);
    let numChecked = 0;
    for (let i = 0; i < 8; i++) {
      const prompt = randomTokens(3 + i * 2, spec.vocabSize, random);
      const last = reference(prompt)[prompt.length - 1];
      if (topTwoGap(last) <= TIE_TOLERANCE * maxAbs(last)) continue; // a near tie: either is right
      const [token] = await driver.runGenerate(prompt, 1, { temperature: 0 });
      expect(token, `prompt ${i}`).toBe(argmax(last));
      numChecked++;
    }
    expect(numChecked).toBeGreaterThan(4);
  });

  it('greedy generation follows the reference for 10 tokens', async () => {
    const { spec, driver, reference } = model();
    const prompt = randomTokens(6, spec.vocabSize, seededRandom(spec.seed + 950));
    const generated = await driver.runGenerate(prompt, 10, { temperature: 0 });
    const sequence = [...prompt];
    for (const token of generated) {
      const last = reference(sequence)[sequence.length - 1];
      if (topTwoGap(last) <= TIE_TOLERANCE * maxAbs(last)) break; // past a near tie the paths may part
      expect(token, `after ${sequence.length} tokens`).toBe(argmax(last));
      sequence.push(token);
    }
    expect(sequence.length).toBeGreaterThan(prompt.length);
  });

  it('returns the greedy token first among sorted top logprobs', async () => {
    const { spec, driver } = model();
    const seqId = driver.newSeqId();
    const prompt = randomTokens(7, spec.vocabSize, seededRandom(spec.seed + 960));
    const output = await driver.step([{ seqId, tokens: prompt, sample: true, params: { temperature: 0, numTopLogprobs: 3 } }]);
    const sample = output.samples.find((s) => s.seqId === seqId)!;
    expect(sample.topLogprobs.length).toBe(3);
    expect(sample.topLogprobs[0][0]).toBe(sample.token);
    expect(sample.logprob).toBeLessThanOrEqual(0);
    const values = sample.topLogprobs.map(([, logprob]) => logprob);
    expect([...values].sort((a, b) => b - a)).toEqual(values);
    await driver.finish([seqId]);
  });

  it('the same seed gives the same tokens at temperature 1', async () => {
    const { spec, driver } = model();
    const prompt = randomTokens(5, spec.vocabSize, seededRandom(spec.seed + 1000));
    const params = { temperature: 1, seed: 1234 };
    const first = await driver.runGenerate(prompt, 12, params);
    const second = await driver.runGenerate(prompt, 12, params);
    expect(second).toEqual(first);
    for (const token of first) expect(token).toBeLessThan(spec.vocabSize);
  });

  it('a seed gives the same tokens whether the sequence runs alone or in a batch', async () => {
    const { spec, driver } = model();
    const prompt = randomTokens(5, spec.vocabSize, seededRandom(spec.seed + 1000));
    const alone = await driver.runGenerate(prompt, 8, { temperature: 1, seed: 77 });
    // two sequences with the same seed and prompt, next to one with another seed, step by step
    const ids = [driver.newSeqId(), driver.newSeqId(), driver.newSeqId()];
    const seeds = [77, 5, 77];
    const streams: number[][] = [[], [], []];
    for (let step = 0; step < 8; step++) {
      const output = await driver.step(ids.map((seqId, i) => ({
        seqId,
        tokens: step === 0 ? prompt : [streams[i][step - 1]],
        sample: true,
        params: { temperature: 1, seed: seeds[i] },
      })));
      ids.forEach((seqId, i) => streams[i].push(sampledToken(output, seqId)));
    }
    await driver.finish(ids);
    expect(streams[0]).toEqual(alone);
    expect(streams[2]).toEqual(alone);
  });

  it('different seeds give different tokens at temperature 1', async () => {
    const { spec, driver } = model();
    const prompt = randomTokens(5, spec.vocabSize, seededRandom(spec.seed + 1100));
    const streams = new Set<string>();
    for (const seed of [1, 2, 3, 4]) streams.add((await driver.runGenerate(prompt, 10, { temperature: 1, seed })).join(','));
    expect(streams.size).toBeGreaterThan(1);
  });

  it('never samples a token at or above vocabLimit', async () => {
    const { spec, driver } = model();
    const prompt = randomTokens(4, spec.vocabSize, seededRandom(spec.seed + 1200));
    const tokens = await driver.runGenerate(prompt, 24, { temperature: 1.5, seed: 9, vocabLimit: 100 });
    for (const token of tokens) expect(token).toBeLessThan(100);
  });
});
