// Table tests of shared prefill: n identical prompts (n > 1 choices) compute the prompt once plus
// each sibling's partial last block; a shared system prompt being computed is waited for;
// different prompts are not held back; and the prompt-token counter counts what was computed.
import { describe, expect, it } from 'vitest';
import { type Decision, Harness, range, referenceOutput } from './testing/harness';

// prompt positions computed: the prompt once, then per sibling what follows its whole-block hits
function expectedComputed(promptLen: number, n: number, blockSize: number): number {
  const hit = Math.floor((promptLen - 1) / blockSize) * blockSize;
  return promptLen + (n - 1) * (promptLen - hit);
}

describe('Scheduler: shared prefill', () => {
  it.each([
    [37, 4],
    [36, 4],
    [5, 2],
    [3, 3],
  ])('a %i-token prompt with n = %i is computed once, siblings fork from its blocks', (len, n) => {
    const h = new Harness({ maxNumBatchedTokens: 64, maxNumSeqs: 8, blockSize: 4, numBlocks: 64, maxModelLen: 96 });
    const prompt = range(len, 1);
    for (let i = 0; i < n; i++) h.add(i, prompt, { maxTokens: 3 });
    // the first computes the prompt alone (a prompt within one block has nothing to share)
    if (len > 4) expect(h.step()).toEqual<Decision[]>([[0, 0, len, true]]);
    h.runToCompletion();
    expect(h.scheduler.getStats().numPromptTokensComputed).toBe(expectedComputed(len, n, 4));
    for (let i = 0; i < n; i++) expect(h.outputs.get(i)).toEqual(referenceOutput(prompt, 3));
  });

  it('siblings share the prompt blocks (refcounts) while they run', () => {
    const h = new Harness({ maxNumBatchedTokens: 64, maxNumSeqs: 8, blockSize: 4, numBlocks: 64, maxModelLen: 96 });
    for (let i = 0; i < 3; i++) h.add(i, range(13, 1), { maxTokens: 5 });
    h.step();
    h.step(); // request 0 decodes, 1 and 2 are admitted with 12 tokens of hits
    const tables = [0, 1, 2].map((id) => h.scheduler.kvCache.getBlockIds(id));
    expect(tables[1].slice(0, 3)).toEqual(tables[0].slice(0, 3));
    expect(tables[2].slice(0, 3)).toEqual(tables[0].slice(0, 3));
    expect(tables[1][3]).not.toBe(tables[0][3]); // the partial last block is each one's own
    for (const b of tables[0].slice(0, 3)) expect(h.scheduler.kvCache.pool.getBlock(b).refCount).toBe(3);
  });

  it('a waiting prompt sharing a running chunked prefill waits for it, then hits', () => {
    const h = new Harness({ maxNumBatchedTokens: 16, longPrefillTokenThreshold: 8, blockSize: 4 });
    const system = range(16, 1);
    h.add(1, [...system, 50, 51], { maxTokens: 1 });
    h.add(2, [...system, 60], { maxTokens: 1 });
    const steps = [h.step(), h.step(), h.step()];
    expect(steps).toEqual<Decision[][]>([
      [[1, 0, 8, false]], // budget left, but request 2 waits for the blocks being computed
      [[1, 8, 8, false]],
      [[1, 16, 2, true], [2, 16, 1, true]],
    ]);
    expect(h.scheduler.getStats().numPromptTokensComputed).toBe(19);
  });

  it('a request that waits for a shared prefill does not hold back the ones after it', () => {
    const h = new Harness({ maxNumBatchedTokens: 16, longPrefillTokenThreshold: 8, blockSize: 4 });
    h.add(1, range(20, 1), { maxTokens: 1 });
    h.add(2, range(6, 1), { maxTokens: 1 }); // shares block 0 with request 1
    h.add(3, range(5, 30), { maxTokens: 2 }); // shares nothing
    expect(h.step()).toEqual<Decision[]>([[1, 0, 8, false], [3, 0, 5, true]]);
    expect(h.step()).toEqual<Decision[]>([[1, 8, 8, false], [3, 5, 1, true], [2, 4, 2, true]]);
  });

  it('without prefix caching every sibling computes its prompt', () => {
    const h = new Harness({ maxNumBatchedTokens: 64, maxNumSeqs: 8, blockSize: 4, numBlocks: 64, maxModelLen: 96, enablePrefixCaching: false });
    for (let i = 0; i < 4; i++) h.add(i, range(10, 1), { maxTokens: 1 });
    h.runToCompletion();
    expect(h.scheduler.getStats().numPromptTokensComputed).toBe(40);
  });
});
