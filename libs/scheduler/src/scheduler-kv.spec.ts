// Table tests of the scheduler's KV decisions: prefix-cache hits skip whole computed blocks
// (never the whole prompt), preemption of the newest running request and its recompute,
// requests that can never fit, and block accounting.
import { describe, expect, it } from 'vitest';
import { type Decision, Harness, range, referenceOutput } from './testing/harness';

describe('Scheduler: prefix caching', () => {
  it.each([
    ['shares two full blocks', 8, [...range(8), 90, 91]],
    ['shares one block, then differs', 4, [...range(4), 90, ...range(5, 5)]],
    ['equals a cached prompt of whole blocks (the last block is recomputed)', 4, range(8)],
    ['differs in the first block', 0, [90, ...range(9, 1)]],
    ['is shorter than a block', 0, range(3)],
  ])('a prompt that %s skips %i tokens', (_name, skipped, prompt) => {
    const h = new Harness({ blockSize: 4 });
    h.add(1, range(10), { maxTokens: 1 });
    h.runToCompletion();
    h.add(2, prompt, { maxTokens: 1 });
    expect(h.step()).toEqual<Decision[]>([[2, skipped, prompt.length - skipped, true]]);
    expect(h.lastOutput?.scheduled[0].newBlockIds).toHaveLength(Math.ceil(prompt.length / 4));
    expect(h.scheduler.getRequest(2)).toBeUndefined(); // finished with its one token
    expect(h.outputs.get(2)).toEqual(referenceOutput(prompt, 1));
  });

  it('never hits blocks still being computed: an identical prompt waits for them (shared prefill)', () => {
    const h = new Harness({ maxNumBatchedTokens: 32 });
    h.add(1, range(12), { maxTokens: 1 });
    h.add(2, range(12), { maxTokens: 1 });
    expect(h.step()).toEqual<Decision[]>([[1, 0, 12, true]]);
    expect(h.step()).toEqual<Decision[]>([[2, 8, 4, true]]);
  });

  it('a cached chunk of a running prefill is shared by a later request', () => {
    const h = new Harness({ maxNumBatchedTokens: 8 });
    h.add(1, range(24));
    h.step(); // computes tokens 0..7
    h.add(2, [...range(8), 99]);
    expect(h.step()).toEqual<Decision[]>([[1, 8, 8, false]]);
    expect(h.step()).toEqual<Decision[]>([
      [1, 16, 8, true],
    ]);
    h.step();
    expect(h.lastOutput?.scheduled.find((s) => s.requestId === 2)?.startPos).toBe(8);
    expect(h.scheduler.getStats().prefixCacheHitRate).toBeCloseTo(8 / (24 + 9));
  });
});

describe('Scheduler: preemption', () => {
  it('preempts the newest running request when an older one runs out of blocks', () => {
    const h = new Harness({ blockSize: 4, numBlocks: 3 });
    h.add(1, range(7), { maxTokens: 5 }); // 2 blocks; its decode at position 8 needs a third
    h.add(2, range(3, 100), { maxTokens: 5 }); // 1 block
    h.step();
    expect(h.step()).toEqual<Decision[]>([[1, 7, 1, true], [2, 3, 1, true]]);
    expect(h.step()).toEqual<Decision[]>([[1, 8, 1, true]]);
    expect(h.lastOutput?.preemptedIds).toEqual([2]);
    expect(h.lastOutput?.finishedIds).toEqual([2]);
    expect(h.scheduler.getRequest(2)).toMatchObject({ status: 'PREEMPTED', numComputedTokens: 0, blockIds: [] });
    h.runToCompletion();
    expect(h.scheduler.getStats().numPreemptions).toBe(1);
    expect(h.outputs.get(1)).toEqual(referenceOutput(range(7), 5));
    expect(h.outputs.get(2)).toEqual(referenceOutput(range(3, 100), 5));
  });

  it('admits nobody in a step that preempted', () => {
    const h = new Harness({ blockSize: 4, numBlocks: 4 });
    h.add(1, range(7), { maxTokens: 5 });
    h.add(2, range(7, 100), { maxTokens: 5 });
    h.step();
    h.add(3, range(2, 200), { maxTokens: 1 }); // would fit in the blocks freed by preempting 2
    h.step();
    expect(h.step()).toEqual<Decision[]>([[1, 8, 1, true]]);
    expect(h.lastOutput).toMatchObject({ preemptedIds: [2], newRequests: [] });
    const admitted: number[] = [];
    while (h.scheduler.numUnfinishedRequests > 0) {
      h.step();
      admitted.push(...h.lastOutput!.newRequests.map((r) => r.requestId));
    }
    expect(admitted).toEqual([2, 3]); // the preempted (older) request goes first
  });

  it('recomputes the kept outputs as prompt and resumes with the same tokens', () => {
    const h = new Harness({ blockSize: 2, numBlocks: 6, maxNumBatchedTokens: 32 });
    h.add(1, range(4), { maxTokens: 6 });
    h.add(2, range(4, 50), { maxTokens: 6 });
    const preemptedAt: number[] = [];
    while (h.scheduler.numUnfinishedRequests > 0) {
      h.step();
      const out = h.lastOutput!;
      if (out.preemptedIds.length > 0) preemptedAt.push(...out.preemptedIds);
      const resumed = out.newRequests.find((r) => preemptedAt.includes(r.requestId));
      if (resumed !== undefined) {
        const entry = out.scheduled.find((s) => s.requestId === resumed.requestId)!;
        expect(resumed.numPromptTokens).toBe(4); // the original prompt length, for penalties
        expect(entry.startPos + entry.tokens.length).toBeGreaterThan(4); // outputs recomputed too
      }
    }
    expect(preemptedAt).toEqual([2]);
    expect(h.outputs.get(2)).toEqual(referenceOutput(range(4, 50), 6));
  });

  it('finishes a prompt that needs more blocks than exist with an error', () => {
    const h = new Harness({ blockSize: 4, numBlocks: 2 });
    h.add(1, range(9));
    h.add(2, range(3));
    expect(h.step()).toEqual<Decision[]>([[2, 0, 3, true]]);
    expect(h.finished.get(1)).toMatchObject({ reason: 'error' });
  });

  it('finishes a request that outgrows the whole pool with an error instead of looping', () => {
    const h = new Harness({ blockSize: 4, numBlocks: 2 });
    h.add(1, range(7), { maxTokens: 5 });
    h.runToCompletion(20);
    expect(h.finished.get(1)).toMatchObject({ reason: 'error' });
    expect(h.outputs.get(1)).toEqual(referenceOutput(range(7), 2)); // positions 7 and 8 fit
    expect(h.scheduler.kvCache.numFreeBlocks).toBe(2);
  });

  it('returns every block to the pool once all requests are done', () => {
    const h = new Harness({ blockSize: 4, numBlocks: 8 });
    for (let i = 0; i < 6; i++) h.add(i, range(5 + i, i * 7), { maxTokens: 6 });
    h.runToCompletion();
    expect(h.scheduler.getStats()).toMatchObject({ numFreeBlocks: 8, kvUsage: 0, numRunning: 0, numWaiting: 0 });
    expect(h.worker.numSequences).toBe(0);
  });
});
