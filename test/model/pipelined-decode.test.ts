// Pipelined decode (SingleSequenceDriver, as `tpserve generate` and bench:engine run it): decode
// steps sent before the reply of the step they follow, with PLACEHOLDER_TOKEN for its sample,
// produce exactly the tokens of steps sent one at a time with the real ids, greedy and seeded;
// a placeholder with no sample before it is refused with a message naming it.
// Run: npx vitest run test/model/pipelined-decode.test.ts (needs the built addon)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeEngine } from '../../libs/native/src/native-engine';
import { SingleSequenceDriver } from '../../libs/native/src/single-sequence-driver';
import { PLACEHOLDER_TOKEN, type SamplingParams } from '../../libs/native/src/types';
import { ODD_SPECS } from '../helpers/checkpoint-specs';
import { loadEngine } from '../helpers/engine-driver';
import { makeTempDir, randomTokens, removeDir, seededRandom, writeRandomCheckpoint } from '../helpers/random-checkpoint';

const NUM_DECODES = 12;

describe('pipelined decode', () => {
  const spec = ODD_SPECS['seed-gqa-f32'];
  let dir = '';
  let engine: NativeEngine;
  beforeAll(async () => {
    dir = makeTempDir('pipelined-decode');
    writeRandomCheckpoint(dir, spec);
    engine = await loadEngine(dir);
  });
  afterAll(() => {
    engine?.dispose();
    if (dir) removeDir(dir);
  });

  async function oneAtATime(driver: SingleSequenceDriver, prompt: number[], params: SamplingParams): Promise<number[]> {
    let { sample } = await driver.prefill(prompt, params, { sample: true, logits: 'none' });
    const ids = [sample!.token];
    for (let i = 0; i < NUM_DECODES; i++) {
      sample = (await driver.decode(sample!.token)).sample;
      ids.push(sample.token);
    }
    return ids;
  }

  async function allSentAhead(driver: SingleSequenceDriver, prompt: number[], params: SamplingParams): Promise<number[]> {
    const { sample } = await driver.prefill(prompt, params, { sample: true, logits: 'none' });
    // every decode goes out before any reply: the first with the prefill's sample, the rest with placeholders
    const replies = Array.from({ length: NUM_DECODES }, (_, i) => driver.decode(i === 0 ? sample!.token : PLACEHOLDER_TOKEN));
    return [sample!.token, ...(await Promise.all(replies)).map((r) => r.sample.token)];
  }

  it.each<[string, SamplingParams]>([
    ['greedy', { temperature: 0 }],
    ['seeded at temperature 1', { temperature: 1, seed: 77 }],
  ])('%s: the same tokens as steps sent one at a time', async (_name, params) => {
    const driver = new SingleSequenceDriver(engine);
    const prompt = randomTokens(9, spec.vocabSize, seededRandom(spec.seed + 31));
    const expected = await oneAtATime(driver, prompt, params);
    const pipelined = await allSentAhead(driver, prompt, params);
    await driver.release();
    expect(pipelined).toEqual(expected);
    expect(new Set(expected).size).toBeGreaterThan(1); // not a degenerate repeat of one id
  });

  it('refuses a placeholder that no sample stands for', async () => {
    const driver = new SingleSequenceDriver(engine);
    const prompt = randomTokens(5, spec.vocabSize, seededRandom(spec.seed + 32));
    await driver.prefill(prompt, { temperature: 0 }, { sample: false, logits: 'last' });
    await expect(driver.decode(PLACEHOLDER_TOKEN)).rejects.toThrow(/placeholder/);
    await driver.release();
  });
});
