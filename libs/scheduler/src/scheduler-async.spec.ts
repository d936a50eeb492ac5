// Table tests of async scheduling: step N+1 is planned and sent while N is unreported, decodes
// carry a placeholder that the worker fills with its own sample (and resolvePlaceholders() in the
// coordinator's copy), a stop or abort found late discards the speculative token and leaks no
// block, a request whose inputs the caller decides is not speculated, preemption of a request in
// flight, and greedy outputs equal the synchronous scheduler's. The harness drives it as the
// engine loop does.
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
    expect(() => s.schedule()).toThrow(/2 steps unreported/);
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

  it('discards the speculative decode when the previous token was an EOS, and frees its blocks', () => {
    const eos = nextToken(3, VOCAB_SIZE); // the first sampled token
    const h = asyncHarness({ eosTokenIds: [eos] });
    h.add(1, [1, 2, 3], { maxTokens: 8 });
    h.add(2, [5, 6], { maxTokens: 8 });
    h.step();
    const decisions = h.step(); // sent with both decoding; request 1 stopped meanwhile
    expect(decisions).toEqual<Decision[]>([[1, 3, 1, true], [2, 2, 1, true]]);
    expect(h.finished.get(1)).toMatchObject({ reason: 'stop', stopTokenId: eos });
    h.step(); // the speculative token of request 1 reports and is dropped
    expect(h.outputs.get(1)).toEqual([eos]);
    expect(h.scheduler.getRequest(1)).toBeUndefined();
    h.runToCompletion();
    expect(h.worker.numSequences).toBe(0);
    expect(h.scheduler.kvCache.numFreeBlocks).toBe(BASE_CONFIG.numBlocks);
  });

  it('discards the speculative decode of a request aborted while it was sent, and frees its blocks', () => {
    const h = asyncHarness();
    h.add(1, [1, 2, 3], { maxTokens: 8 });
    h.step(); // prefill
    h.step(); // decode sent ahead
    h.scheduler.abortRequest(1);
    const numOutputs = h.outputs.get(1)?.length ?? 0;
    h.runToCompletion();
    expect(h.finished.get(1)?.reason).toBe('abort');
    expect(h.outputs.get(1)?.length ?? 0).toBeLessThanOrEqual(numOutputs + 1); // the one reported before the abort took effect
    expect(h.worker.numSequences).toBe(0);
    expect(h.scheduler.kvCache.numFreeBlocks).toBe(BASE_CONFIG.numBlocks);
  });

  it('does not speculate a request whose next input the caller decides, and computes its forced tokens next', () => {
    const s = new Scheduler({ ...BASE_CONFIG, asyncScheduling: true });
    s.addRequest({ requestId: 1, promptTokens: [1, 2, 3], samplingParams: {}, maxTokens: 10, isSpeculationAllowed: false });
    s.addRequest({ requestId: 2, promptTokens: [7, 8], samplingParams: {}, maxTokens: 10 });
    const prefill = s.schedule();
    const ahead = s.schedule(); // planned while the prefill is unreported
    expect(ahead.scheduled.map((e) => e.requestId)).toEqual([2]);
    s.updateFromOutput(prefill, [{ requestId: 1, token: 30 }, { requestId: 2, token: 31 }]);
    appendForcedTokens(s, 1, [40, 41]);
    s.resolvePlaceholders(ahead);
    expect(ahead.scheduled[0].tokens).toEqual([31]);
    const next = s.schedule();
    expect(next.scheduled).toMatchObject([{ requestId: 1, tokens: [30, 40, 41], startPos: 3, sample: true }, { requestId: 2, tokens: [PLACEHOLDER_TOKEN] }]);
  });

  it('refuses to settle a sent-ahead entry whose request got other tokens meanwhile', () => {
    const s = new Scheduler({ ...BASE_CONFIG, asyncScheduling: true });
    s.addRequest({ requestId: 1, promptTokens: [1, 2, 3], samplingParams: {}, maxTokens: 10 });
    const prefill = s.schedule();
    const ahead = s.schedule();
    s.updateFromOutput(prefill, [{ requestId: 1, token: 30 }]);
    appendForcedTokens(s, 1, [40]); // what isSpeculationAllowed: false exists to prevent
    expect(() => s.resolvePlaceholders(ahead)).toThrow(/sent ahead for request 1/);
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
