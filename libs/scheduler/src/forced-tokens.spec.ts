// Forced tokens through the scheduler and the fake worker: they are computed as one chunk with
// the newest sampled token, KV stays consistent, and maxTokens bounds them.
import { describe, expect, it } from 'vitest';
import { appendForcedTokens, remainingOutputRoom } from './forced-tokens';
import { Harness } from './testing/harness';

describe('appendForcedTokens', () => {
  it('computes the forced tokens with the last sampled one and samples after them', () => {
    const h = new Harness();
    h.add(1, [1, 2, 3], { maxTokens: 10 });
    h.step(); // prefill, samples t0
    const t0 = h.outputs.get(1)![0];
    expect(appendForcedTokens(h.scheduler, 1, [40, 41, 42])).toBe(3);
    const decisions = h.step();
    expect(decisions).toEqual([[1, 3, 4, true]]); // t0 + 3 forced, from position 3
    expect(h.lastOutput!.scheduled[0].tokens).toEqual([t0, 40, 41, 42]);
    expect(h.scheduler.getRequest(1)!.outputTokens.slice(0, 4)).toEqual([t0, 40, 41, 42]);
    h.runToCompletion();
    expect(h.finished.get(1)!.reason).toBe('length');
    // 1 sampled + 3 forced + 6 sampled = maxTokens
    expect(h.outputs.get(1)!.length).toBe(7);
  });

  it('forces into a waiting request so that its first prefill covers them', () => {
    const h = new Harness();
    h.add(1, [1, 2, 3], { maxTokens: 10 });
    expect(appendForcedTokens(h.scheduler, 1, [9, 8])).toBe(2);
    expect(h.step()).toEqual([[1, 0, 5, true]]);
    expect(h.scheduler.getRequest(1)!.numPromptTokens).toBe(3);
  });

  it('never exceeds maxTokens', () => {
    const h = new Harness();
    h.add(1, [1, 2, 3], { maxTokens: 3 });
    h.step();
    expect(remainingOutputRoom(h.scheduler, 1)).toBe(2);
    expect(appendForcedTokens(h.scheduler, 1, [5, 6, 7, 8])).toBe(2);
    expect(remainingOutputRoom(h.scheduler, 1)).toBe(0);
    h.scheduler.abortRequest(1);
    h.step();
    expect(h.finished.get(1)!.reason).toBe('abort');
    expect(h.scheduler.kvCache.numFreeBlocks).toBe(32);
  });

  it('ignores unknown requests', () => {
    const h = new Harness();
    expect(appendForcedTokens(h.scheduler, 99, [1])).toBe(0);
  });
});
