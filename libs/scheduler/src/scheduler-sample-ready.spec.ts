// isSampleReady (structured outputs: a sequence whose next mask is not computed yet sits out the
// step): the others keep their per-step progress, a prefill stops one token short of its sample,
// an async (never speculated) request sits out too, and under random readiness every output still
// equals the fake model's answer with every block freed, sync and async.
import { describe, expect, it } from 'vitest';
import { BASE_CONFIG, type Decision, Harness, range, referenceOutput } from './testing/harness';
import { checkInvariants, mulberry32 } from './testing/invariants';

function gatedHarness(notReady: Set<number>, over = {}): Harness {
  return new Harness({ isSampleReady: (id: number) => !notReady.has(id), ...over });
}

describe('Scheduler: isSampleReady', () => {
  it('skips a decode whose sample is not ready while the others advance every step', () => {
    const notReady = new Set<number>();
    const h = gatedHarness(notReady);
    h.add(1, [1, 2, 3], { maxTokens: 8 });
    h.add(2, [4, 5], { maxTokens: 8 });
    h.add(3, [6, 7, 8, 9], { maxTokens: 8 });
    h.step(); // prefills, each samples its first token
    notReady.add(2);
    for (let k = 0; k < 3; k++) {
      const decisions = h.step();
      expect(decisions.map(([id]) => id)).toEqual([1, 3]);
      expect(decisions.every(([, , n, sample]) => n === 1 && sample)).toBe(true);
    }
    expect(h.outputs.get(1)?.length).toBe(4);
    expect(h.outputs.get(2)?.length).toBe(1);
    notReady.delete(2);
    expect(h.step()).toEqual<Decision[]>([[1, 6, 1, true], [2, 2, 1, true], [3, 7, 1, true]]);
    h.runToCompletion();
    for (const [id, prompt] of [[1, [1, 2, 3]], [2, [4, 5]], [3, [6, 7, 8, 9]]] as const) expect(h.outputs.get(id)).toEqual(referenceOutput(prompt, 8));
  });

  it('prefills a new request up to its first sample and samples once it is ready', () => {
    const notReady = new Set([1]);
    const h = gatedHarness(notReady);
    h.add(1, range(6, 1), { maxTokens: 2 });
    expect(h.step()).toEqual<Decision[]>([[1, 0, 5, false]]);
    expect(h.step()).toEqual<Decision[]>([]);
    notReady.clear();
    expect(h.step()).toEqual<Decision[]>([[1, 5, 1, true]]);
    h.runToCompletion();
    expect(h.outputs.get(1)).toEqual(referenceOutput(range(6, 1), 2));
  });

  it('leaves a one-token prompt waiting, and admits the next request meanwhile', () => {
    const notReady = new Set([1]);
    const h = gatedHarness(notReady);
    h.add(1, [7], { maxTokens: 2 });
    h.add(2, [8, 9], { maxTokens: 2 });
    expect(h.step()).toEqual<Decision[]>([[2, 0, 2, true]]);
    expect(h.scheduler.getStats().numWaiting).toBe(1);
    notReady.clear();
    h.runToCompletion();
    expect(h.outputs.get(1)).toEqual(referenceOutput([7], 2));
  });

  it('async: a request whose sample can be unready is not speculated and sits out while the others advance', () => {
    const notReady = new Set<number>();
    const h = gatedHarness(notReady, { asyncScheduling: true });
    h.add(1, [1, 2, 3], { maxTokens: 6 });
    h.add(2, [4, 5], { maxTokens: 6, isSpeculationAllowed: false });
    h.step();
    h.step();
    notReady.add(2);
    for (let k = 0; k < 2; k++) expect(h.step().map(([id]) => id)).toEqual([1]);
    notReady.clear();
    h.runToCompletion();
    expect(h.outputs.get(1)).toEqual(referenceOutput([1, 2, 3], 6));
    expect(h.outputs.get(2)).toEqual(referenceOutput([4, 5], 6));
    expect(h.scheduler.kvCache.numFreeBlocks).toBe(BASE_CONFIG.numBlocks);
  });

  for (const asyncScheduling of [false, true]) {
    it(`random readiness keeps outputs exact and frees every block (async ${asyncScheduling})`, () => {
      for (let seed = 1; seed <= 6; seed++) {
        const rng = mulberry32(seed);
        const notReady = new Set<number>();
        const h = gatedHarness(notReady, { asyncScheduling, numBlocks: 24 });
        const prompts = new Map<number, number[]>();
        for (let id = 0; id < 10; id++) prompts.set(id, range(1 + Math.floor(rng() * 20), 1 + id));
        let added = 0;
        for (let step = 0; step < 2000 && (added < prompts.size || h.scheduler.numUnfinishedRequests > 0 || h.hasUnreported); step++) {
          if (added < prompts.size && rng() < 0.4) h.add(added, prompts.get(added)!, { maxTokens: 12, isSpeculationAllowed: false }), added++;
          notReady.clear();
          for (const id of prompts.keys()) if (rng() < 0.4) notReady.add(id);
          h.step();
          checkInvariants(h.scheduler, [...prompts.keys()].filter((id) => id < added && !h.finished.has(id)), h.lastOutput);
        }
        notReady.clear();
        h.runToCompletion();
        for (const [id, prompt] of prompts) expect(h.outputs.get(id), `seed ${seed} request ${id}`).toEqual(referenceOutput(prompt, 12));
        expect(h.scheduler.kvCache.numFreeBlocks).toBe(24);
      }
    });
  }
});
