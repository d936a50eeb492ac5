// Table tests of async scheduling: step N+1 is planned while N is unreported, decodes carry a
// placeholder that resolvePlaceholders() fills, a stop found late rolls the speculative token back,
// forced tokens void the speculative decode, preemption of a request in flight, and greedy outputs
// equal the synchronous scheduler's. The harness drives it as the engine loop does.
import { describe, expect, it } from 'vitest';
import { appendForcedTokens } from './forced-tokens';
import { Scheduler } from './scheduler';
import { PLACEHOLDER_TOKEN } from './scheduler-output';
import { nextToken } from './testing/fake-worker';
import { BASE_CONFIG, type Decision, Harness, range, referenceOutput, VOCAB_SIZE } from './testing/harness';
import { checkInvariants, mulberry32 } from './testing/invariants';

const asyncHarness = (over = {}): Harness => new Harness({ asyncScheduling: true, ...over });

describe('Scheduler: async scheduling', () => {
  it('plans the next decode before the previous step reported, with a placeholder', () => {
    const s = new Scheduler({ ...BASE_CONFIG, asyncScheduling: true });
    s.addRequest({ requestId: 1, promptTokens: [1, 2, 3], samplingParams: {}, maxTokens: 5 });
    const first = s.schedule();
    const second = s.schedule(); // first is still unreported
    expect(second.scheduled).toEqual([{ requestId: 1, tokens: [PLACEHOLDER_TOKEN], startPos: 3, newBlockIds: [], sample: true }]);
    expect(() => s.schedule()).toThrow(/two steps unreported/);
    expect(() => s.resolvePlaceholders(second) && s.updateFromOutput(second, [])).toThrow(/before the step ahead/);
    s.updateFromOutput(first, [{ requestId: 1, token: 17 }]);
    expect(s.resolvePlaceholders(second).scheduled[0].tokens).toEqual([17]);
  });

  it('keeps the synchronous scheduler forbidding a second schedule()', () => {
    const s = new Scheduler(BASE_CONFIG);
    s.addRequest({ requestId: 1, promptTokens: [1, 2, 3], samplingParams: {} });
    s.schedule();
    expect(() => s.schedule()).toThrow(/before updateFromOutput/);
  });

  it('does not speculate past maxTokens', () => {
    const h = asyncHarness();
    h.add(1, [1, 2, 3], { maxTokens: 2 });
    expect(h.step()).toEqual<Decision[]>([[1, 0, 3, true]]);
    expect(h.step()).toEqual<Decision[]>([[1, 3, 1, true]]);
    expect(h.step()).toEqual<Decision[]>([]); // its unreported token is the last one
    expect(h.finished.get(1)?.reason).toBe('length');
    expect(h.outputs.get(1)).toEqual(referenceOutput([1, 2, 3], 2));
  });

  it('rolls back the speculative decode when the previous token was an EOS', () => {
    const eos = nextToken(3, VOCAB_SIZE); // the first sampled token
    const h = asyncHarness({ eosTokenIds: [eos] });
    h.add(1, [1, 2, 3], { maxTokens: 8 });
    h.add(2, [5, 6], { maxTokens: 8 });
    h.step();
    const decisions = h.step(); // planned with both decoding; request 1 stopped meanwhile
    expect(decisions).toEqual<Decision[]>([[2, 2, 1, true]]);
    expect(h.lastOutput?.numBatchedTokens).toBe(1);
    expect(h.finished.get(1)).toMatchObject({ reason: 'stop', stopTokenId: eos });
    expect(h.outputs.get(1)).toEqual([eos]);
    h.runToCompletion();
    expect(h.worker.numSequences).toBe(0);
    expect(h.scheduler.kvCache.numFreeBlocks).toBe(BASE_CONFIG.numBlocks);
  });

  it('drops the speculative decode of a request that got forced tokens and computes them next', () => {
    const h = asyncHarness();
    h.add(1, [1, 2, 3], { maxTokens: 10 });
    h.step(); // prefill (unreported)
    const s = h.scheduler;
    const planned = s.schedule(); // decode with a placeholder
    h.report(); // the prefill reports t0
    appendForcedTokens(s, 1, [40, 41]);
    expect(s.resolvePlaceholders(planned).scheduled).toEqual([]);
    const t0 = h.outputs.get(1)![0];
    const next = s.schedule();
    expect(next.scheduled).toMatchObject([{ requestId: 1, tokens: [t0, 40, 41], startPos: 3, sample: true }]);
    s.updateFromOutput(next, h.worker.step(next));
    checkInvariants(s, [1], next);
  });

  it('hands the block ids of a dropped entry to the next one', () => {
    const h = asyncHarness({ blockSize: 4 });
    h.add(1, [1, 2, 3, 4], { maxTokens: 10 });
    h.step(); // prefill fills block 0 exactly
    const s = h.scheduler;
    const planned = s.schedule(); // decode at position 4 needs a new block
    expect(planned.scheduled[0].newBlockIds).toHaveLength(1);
    const block = planned.scheduled[0].newBlockIds[0];
    h.report();
    appendForcedTokens(s, 1, [40]);
    s.resolvePlaceholders(planned);
    const next = s.schedule();
    expect(next.scheduled[0]).toMatchObject({ startPos: 4, newBlockIds: [block] });
    s.updateFromOutput(next, h.worker.step(next)); // the fake worker checks the block table
  });

  it('keeps the token sampled by a step whose request was preempted meanwhile', () => {
    const h = asyncHarness({ numBlocks: 3, blockSize: 4, maxNumBatchedTokens: 32 });
    h.add(1, range(4, 1), { maxTokens: 8 });
    h.add(2, range(4, 11), { maxTokens: 8 });
    h.step();
    while (h.lastOutput?.preemptedIds.length === 0) h.step();
    h.runToCompletion();
    expect(h.outputs.get(1)).toEqual(referenceOutput(range(4, 1), 8));
    expect(h.outputs.get(2)).toEqual(referenceOutput(range(4, 11), 8));
    expect(h.scheduler.getStats().numPreemptions).toBeGreaterThan(0);
  });

  it('gives the synchronous scheduler\'s greedy outputs on a random workload', () => {
    const outputsOf = (asyncScheduling: boolean): Map<number, number[]> => {
      const rng = mulberry32(11);
      const h = new Harness({ asyncScheduling, maxNumSeqs: 6, numBlocks: 40, maxModelLen: 96, maxWaiting: 64, eosTokenIds: [0] });
      for (let id = 0; id < 40; id++) {
        const prompt = Array.from({ length: 1 + Math.floor(rng() * 30) }, () => 1 + Math.floor(rng() * (VOCAB_SIZE - 1)));
        h.add(id, prompt, { maxTokens: 1 + Math.floor(rng() * 20) });
      }
      h.runToCompletion(5000);
      return h.outputs;
    };
    const sync = outputsOf(false);
    expect(sync.size).toBe(40);
    expect(outputsOf(true)).toEqual(sync);
  });
});
