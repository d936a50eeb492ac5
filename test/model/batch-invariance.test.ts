// --batch-invariant (EngineOptions.batchInvariant) end to end through the engine: the logits of a
// token decoded one step at a time are the same bits as that position's row when the whole
// sequence is recomputed in one prefill (what a request resumed after a worker fault does), and a
// decode beside other sequences equals the same decode alone. The checkpoints' odd sizes (GEMV
// tails) and a prompt past the GEMV cut-off (40 rows) exercise both linear kernels' choices.
// Run: npx vitest run test/model/batch-invariance.test.ts (needs the built addon)
import { describe, expect, it } from 'vitest';
import { NativeEngine } from '../../libs/native/src/native-engine';
import { logitRows, sampledToken } from '../helpers/engine-driver';
import { useModelFixture } from '../helpers/model-fixture';
import { randomTokens, seededRandom } from '../helpers/random-checkpoint';

const PROMPT_TOKENS = 45;
const DECODE_TOKENS = 24;

/** Indices of the rows whose bits differ (Object.is per element, so NaN equals NaN). */
function differingRows(a: Float32Array[], b: Float32Array[]): number[] {
  expect(a.length).toBe(b.length);
  return a.flatMap((row, r) => (row.some((v, i) => !Object.is(v, b[r][i])) ? [r] : []));
}

describe.each(['seed-all-bias-bf16-sharded', 'llama-tied-llama3-f32'])('batch-invariant engine: %s', (specName) => {
  const model = useModelFixture(specName, { batchInvariant: true });

  it('decode logits equal the rows of a one-shot recompute of the same tokens', async () => {
    const { spec, driver } = model();
    const prompt = randomTokens(PROMPT_TOKENS, spec.vocabSize, seededRandom(spec.seed + 900));
    // greedy decode, one token per step, keeping each step's logits
    const seqId = driver.newSeqId();
    const decoded: Float32Array[] = [];
    const tokens = [...prompt];
    let next = prompt;
    for (let t = 0; t < DECODE_TOKENS; t++) {
      const out = await driver.step([{ seqId, tokens: next, sample: true, logits: 'last' }]);
      decoded.push(logitRows(out, seqId)[0].slice());
      tokens.push(sampledToken(out, seqId));
      next = [tokens[tokens.length - 1]];
    }
    await driver.finish([seqId]);
    const recomputed = await driver.runPrefill(tokens.slice(0, -1));
    expect(differingRows(decoded, recomputed.slice(PROMPT_TOKENS - 1))).toEqual([]);
  });

  it('a decode beside other sequences equals the same decode alone', async () => {
    const { spec, driver } = model();
    const random = seededRandom(spec.seed + 901);
    const streams = Array.from({ length: 5 }, (_, i) => randomTokens(8 + 9 * i, spec.vocabSize, random));
    const alone = await Promise.all(streams.map(async (s) => (await driver.runDecode(s.slice(0, -1), [s[s.length - 1]]))[1]));
    // the five prompts in one step, then their last tokens decoded together
    const ids = streams.map(() => driver.newSeqId());
    await driver.step(streams.map((s, i) => ({ seqId: ids[i], tokens: s.slice(0, -1) })));
    const out = await driver.step(streams.map((s, i) => ({ seqId: ids[i], tokens: [s[s.length - 1]], logits: 'last' as const })));
    await driver.finish(ids);
    expect(differingRows(ids.map((id) => logitRows(out, id)[0]), alone)).toEqual([]);
  });
});

describe('batch-invariant engine: refused where it is not implemented', () => {
  it('names the cpu-only limit for device cuda', async () => {
    await expect(NativeEngine.load({ modelDir: '/nonexistent', device: 'cuda', batchInvariant: true })).rejects.toThrow(/batch_invariant is implemented for the cpu device only/);
  });
});
