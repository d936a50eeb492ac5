// Penalties across a recompute: a sequence re-sent as new with its tokens so far (prompt, then
// outputs) and the original prompt length must continue exactly as the uninterrupted run under
// presence/frequency penalties (the outputs count as generated, not as prompt). Counting them as
// prompt (the engine's behaviour before the fix) continues differently, which shows the check
// is sensitive. Run: npx vitest run test/model/penalty-history.test.ts (needs the built addon)
import { describe, expect, it } from 'vitest';
import type { SamplingParams } from '../../libs/native/src/types';
import { sampledToken, type EngineDriver } from '../helpers/engine-driver';
import { useModelFixture } from '../helpers/model-fixture';
import { randomTokens, seededRandom } from '../helpers/random-checkpoint';

const PENALTIES: SamplingParams = { temperature: 0, presencePenalty: 1.5, frequencyPenalty: 1.5 };
const NUM_TOKENS = 16;
const NUM_BEFORE = 8;

/** Re-admits prompt + the first outputs as one new sequence, then decodes the rest. */
async function recompute(driver: EngineDriver, prompt: number[], outputs: number[], numPromptTokens: number): Promise<number[]> {
  const seqId = driver.newSeqId();
  const history = [...prompt, ...outputs];
  const tokens = [...outputs];
  let step = await driver.step([{ seqId, tokens: history, sample: true, params: PENALTIES, numPromptTokens, promptTokens: history }]);
  for (;;) {
    tokens.push(sampledToken(step, seqId));
    if (tokens.length >= NUM_TOKENS) break;
    step = await driver.step([{ seqId, tokens: [tokens[tokens.length - 1]], sample: true }]);
  }
  await driver.finish([seqId]);
  return tokens;
}

describe('penalty history after a recompute', () => {
  const model = useModelFixture('seed-gqa-f32');

  it('continues as the uninterrupted run, counting the outputs as generated', async () => {
    const { spec, driver } = model();
    let numSensitive = 0;
    for (let i = 0; i < 4; i++) {
      const prompt = randomTokens(5 + i, spec.vocabSize, seededRandom(spec.seed + 1200 + i));
      const straight = await driver.runGenerate(prompt, NUM_TOKENS, PENALTIES);
      const before = straight.slice(0, NUM_BEFORE);
      expect(await recompute(driver, prompt, before, prompt.length)).toEqual(straight);
      const asPrompt = await recompute(driver, prompt, before, prompt.length + NUM_BEFORE);
      if (asPrompt.join() !== straight.join()) numSensitive++;
    }
    expect(numSensitive).toBeGreaterThan(0);
  });
});
