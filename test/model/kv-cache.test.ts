// The paged KV cache against recomputation: decoding token by token (mode 'last') and chunked
// prefill (chunks of 3, 5, 7 over several steps) give the logits of a one-shot prefill of the
// whole sequence. Block size 4, so chunks and decode steps cross many block boundaries.
// Run: npx vitest run test/model/kv-cache.test.ts (needs the built addon)
import { describe, expect, it } from 'vitest';
import { expectLogitsClose } from '../helpers/logits-compare';
import { useModelFixture } from '../helpers/model-fixture';
import { randomTokens, seededRandom } from '../helpers/random-checkpoint';

// f32 weights: only summation order differs; bf16: also allow for bf16 activations (CUDA)
const CASES: Array<[string, number]> = [
  ['seed-gqa-f32', 1e-4],
  ['llama-tied-llama3-f32', 1e-4],
  ['qwen2-tied-f32', 1e-4],
  ['seed-gqa-bf16', 1e-3],
  ['llama-bias-mqa-bf16', 1e-3],
];

describe.each(CASES)('KV cache == recompute: %s', (specName, tolerance) => {
  const model = useModelFixture(specName, { kvBlockSize: 4, numKvBlocks: 64 });

  it('uses the requested block size', () => {
    expect(model().engine.info().kvBlockSize).toBe(4);
  });

  it('decode one token at a time equals the one-shot logits of the whole sequence', async () => {
    const { spec, driver } = model();
    const tokens = randomTokens(22, spec.vocabSize, seededRandom(spec.seed + 300));
    const [prompt, continuation] = [tokens.slice(0, 9), tokens.slice(9)];
    const decoded = await driver.runDecode(prompt, continuation);
    const full = await driver.runPrefill(tokens);
    // decoded[i] is the logits after position 8 + i
    expect(decoded.length).toBe(continuation.length + 1);
    expectLogitsClose(decoded, full.slice(prompt.length - 1), tolerance, `${specName} decode`);
  });

  it('decode from a 1-token prompt equals recompute', async () => {
    const { spec, driver } = model();
    const tokens = randomTokens(10, spec.vocabSize, seededRandom(spec.seed + 310));
    const decoded = await driver.runDecode(tokens.slice(0, 1), tokens.slice(1));
    expectLogitsClose(decoded, await driver.runPrefill(tokens), tolerance, `${specName} decode from 1`);
  });

  it('chunked prefill (3, 5, 7, ...) equals one-shot prefill', async () => {
    const { spec, driver } = model();
    const tokens = randomTokens(37, spec.vocabSize, seededRandom(spec.seed + 400));
    const full = await driver.runPrefill(tokens);
    const chunked = await driver.runChunkedPrefill(tokens, [3, 5, 7]);
    expect(chunked.length).toBe(tokens.length);
    expectLogitsClose(chunked, full, tolerance, `${specName} chunks 3,5,7`);
  });

  it('chunks aligned to blocks (4, 8) and of single tokens equal one-shot prefill', async () => {
    const { spec, driver } = model();
    const tokens = randomTokens(17, spec.vocabSize, seededRandom(spec.seed + 500));
    const full = await driver.runPrefill(tokens);
    expectLogitsClose(await driver.runChunkedPrefill(tokens, [4, 8]), full, tolerance, `${specName} chunks 4,8`);
    expectLogitsClose(await driver.runChunkedPrefill(tokens, [1]), full, tolerance, `${specName} chunks of 1`);
  });

  it('a finished sequence’s blocks can be reused by another sequence', async () => {
    // every run* call finishes its sequence; the allocator hands the same blocks out again
    const { spec, driver } = model();
    const tokens = randomTokens(30, spec.vocabSize, seededRandom(spec.seed + 600));
    const first = await driver.runPrefill(tokens);
    await driver.runPrefill(randomTokens(30, spec.vocabSize, seededRandom(spec.seed + 601)));
    expectLogitsClose(await driver.runChunkedPrefill(tokens, [6]), first, tolerance, `${specName} reused blocks`);
  });
});
