// Table tests of the scheduler's batching decisions: budget, chunking, decode-first, seq cap,
// FCFS and priority classes. Each step runs through the FakeWorker, which checks the contract.
import { describe, expect, it } from 'vitest';
import { type Decision, Harness, range } from './testing/harness';

describe('Scheduler: token budget and chunked prefill', () => {
  it('splits a long prompt into budget-sized chunks, then decodes', () => {
    const h = new Harness({ maxNumBatchedTokens: 16 });
    h.add(1, range(40), { maxTokens: 2 });
    const steps = [h.step(), h.step(), h.step(), h.step()];
    expect(steps).toEqual<Decision[][]>([
      [[1, 0, 16, false]],
      [[1, 16, 16, false]],
      [[1, 32, 8, true]],
      [[1, 40, 1, true]],
    ]);
    expect(h.finished.get(1)?.reason).toBe('length');
  });

  it('caps one prefill at longPrefillTokenThreshold so others join the step', () => {
    const h = new Harness({ maxNumBatchedTokens: 16, longPrefillTokenThreshold: 6 });
    h.add(1, range(20));
    h.add(2, range(5, 100));
    expect(h.step()).toEqual<Decision[]>([
      [1, 0, 6, false],
      [2, 0, 5, true],
    ]);
    expect(h.step()).toEqual<Decision[]>([
      [1, 6, 6, false],
      [2, 5, 1, true],
    ]);
  });

  it('schedules running decodes first, then spends what is left on a new prefill', () => {
    const h = new Harness({ maxNumBatchedTokens: 16 });
    h.add(1, range(4), { maxTokens: 8 });
    h.step();
    h.add(2, range(30, 100));
    expect(h.step()).toEqual<Decision[]>([
      [1, 4, 1, true],
      [2, 0, 15, false],
    ]);
    expect(h.lastOutput?.newRequests.map((r) => r.requestId)).toEqual([2]);
    expect(h.lastOutput?.numBatchedTokens).toBe(16);
  });

  it('without chunked prefill a prompt waits for a step with room for all of it', () => {
    const h = new Harness({ enableChunkedPrefill: false, maxNumBatchedTokens: 64, maxModelLen: 64 });
    h.add(1, range(40));
    h.add(2, range(30, 100));
    expect(h.step()).toEqual<Decision[]>([[1, 0, 40, true]]);
    expect(h.step()).toEqual<Decision[]>([
      [1, 40, 1, true],
      [2, 0, 30, true],
    ]);
  });

  it('rejects a config whose budget cannot hold a whole prompt without chunking', () => {
    expect(() => new Harness({ enableChunkedPrefill: false, maxNumBatchedTokens: 32, maxModelLen: 64 })).toThrow(/maxModelLen/);
  });

  it.each([
    ['maxNumSeqs', { maxNumSeqs: 0 }],
    ['blockSize', { blockSize: 1.5 }],
    ['longPrefillTokenThreshold', { longPrefillTokenThreshold: -1 }],
    ['maxPrefillStepRatio', { maxPrefillStepRatio: 1 }],
    ['maxPrefillStepRatio', { maxPrefillStepRatio: Number.NaN }],
  ])('rejects a bad %s', (name, over) => {
    expect(() => new Harness(over)).toThrow(name);
  });
});

describe('Scheduler: sequence cap and ordering', () => {
  it('admits at most maxNumSeqs requests; the next one starts when one finishes', () => {
    const h = new Harness({ maxNumSeqs: 2 });
    h.add(1, range(3), { maxTokens: 1 });
    h.add(2, range(3), { maxTokens: 3 });
    h.add(3, range(3));
    expect(h.step().map((d) => d[0])).toEqual([1, 2]); // 1 finishes after its first token
    expect(h.step().map((d) => d[0])).toEqual([2, 3]);
    expect(h.scheduler.getStats()).toMatchObject({ numRunning: 2, numWaiting: 0 });
  });

  it.each([
    ['FCFS inside one class', [[1, 0], [2, 0], [3, 0]], [1, 2, 3]],
    ['lower priority number first', [[1, 2], [2, 0], [3, 1]], [2, 3, 1]],
    ['classes, then arrival', [[1, 1], [2, 0], [3, 1], [4, 0]], [2, 4, 1, 3]],
  ])('admits %s', (_name, reqs, expectedOrder) => {
    const h = new Harness({ maxNumSeqs: 1 });
    for (const [id, priority] of reqs) h.add(id, range(3), { maxTokens: 1, priority });
    const order: number[] = [];
    while (h.scheduler.numUnfinishedRequests > 0) order.push(...h.step().map((d) => d[0]));
    expect(order).toEqual(expectedOrder);
  });

  it('a long prompt at the head blocks later ones only while budget is spent', () => {
    const h = new Harness({ maxNumBatchedTokens: 8 });
    h.add(1, range(20));
    h.add(2, range(2, 100));
    expect(h.step()).toEqual<Decision[]>([[1, 0, 8, false]]);
    expect(h.step()).toEqual<Decision[]>([[1, 8, 8, false]]);
    expect(h.step()).toEqual<Decision[]>([
      [1, 16, 4, true],
      [2, 0, 2, true],
    ]);
  });

  it('refuses a second schedule before updateFromOutput', () => {
    const h = new Harness();
    h.add(1, range(3));
    h.scheduler.schedule();
    expect(() => h.scheduler.schedule()).toThrow(/updateFromOutput/);
  });

  it('refuses an update missing a sampled token, changing nothing', () => {
    const h = new Harness();
    h.add(1, range(3));
    const out = h.scheduler.schedule();
    expect(() => h.scheduler.updateFromOutput(out, [])).toThrow(/no sampled token/);
    expect(h.scheduler.getRequest(1)?.numComputedTokens).toBe(0);
    expect(h.scheduler.updateFromOutput(out, [{ requestId: 1, token: 5 }])).toEqual([{ requestId: 1, token: 5 }]);
  });
});
