// Table tests of a request's life: admission errors, stop conditions, aborts and timeouts.
import { describe, expect, it } from 'vitest';
import { ContextLengthExceededError, InvalidRequestError, QueueFullError } from './errors';
import type { RequestInit } from './request';
import { type Decision, Harness, range, referenceOutput } from './testing/harness';

type P = { temperature: number };
const init = (requestId: number, extra: Partial<RequestInit<P>> = {}): RequestInit<P> => ({
  requestId,
  promptTokens: range(4),
  samplingParams: { temperature: 0 },
  ...extra,
});

describe('Scheduler: admission', () => {
  it('throws QueueFullError only beyond the free running slots plus maxWaiting', () => {
    const h = new Harness({ maxWaiting: 2, maxNumSeqs: 4 });
    // a burst before any step: 4 running slots + 2 waiting places hold 6
    for (let id = 1; id <= 6; id++) h.scheduler.addRequest(init(id));
    expect(() => h.scheduler.addRequest(init(7))).toThrow(QueueFullError);
    h.step(); // four start running: two wait, the queue is still full
    expect(() => h.scheduler.addRequest(init(7))).toThrow(QueueFullError);
    h.scheduler.abortRequest(1);
    h.step(); // the abort frees a slot
    expect(() => h.scheduler.addRequest(init(7))).not.toThrow();
  });

  it.each([
    ['prompt + maxTokens > maxModelLen', init(1, { promptTokens: range(60), maxTokens: 5 }), ContextLengthExceededError],
    ['a prompt that fills the context', init(1, { promptTokens: range(64) }), ContextLengthExceededError],
    ['an empty prompt', init(1, { promptTokens: [] }), InvalidRequestError],
    ['maxTokens 0', init(1, { maxTokens: 0 }), InvalidRequestError],
  ])('rejects %s', (_name, bad, errorClass) => {
    expect(() => new Harness({ maxModelLen: 64 }).scheduler.addRequest(bad)).toThrow(errorClass);
  });

  it('rejects an id in use until the workers were told to forget it', () => {
    const h = new Harness();
    h.scheduler.addRequest(init(1, { maxTokens: 1 }));
    expect(() => h.scheduler.addRequest(init(1))).toThrow(InvalidRequestError);
    h.step(); // finishes 1; its forget is sent with the next step
    expect(() => h.scheduler.addRequest(init(1))).toThrow(/in use/);
    h.step();
    expect(() => h.scheduler.addRequest(init(1))).not.toThrow();
  });

  it('defaults maxTokens to the room left in the context', () => {
    const h = new Harness({ maxModelLen: 10 });
    h.scheduler.addRequest(init(1));
    h.runToCompletion();
    expect(h.outputs.get(1)).toHaveLength(6);
    expect(h.finished.get(1)?.reason).toBe('length');
  });
});

describe('Scheduler: stop conditions', () => {
  const chain = referenceOutput(range(4), 10); // what the fake model says after the prompt
  it.each([
    ['an EOS id', { eos: [chain[2]] }, {}, 3, 'stop'],
    ['a stop token id', { eos: [] }, { stopTokenIds: [chain[1]] }, 2, 'stop'],
    ['EOS while ignoreEos', { eos: [chain[2]] }, { ignoreEos: true, maxTokens: 5 }, 5, 'length'],
    ['EOS before minTokens', { eos: [chain[0], chain[3]] }, { minTokens: 2 }, 4, 'stop'],
    ['maxTokens', { eos: [] }, { maxTokens: 4 }, 4, 'length'],
    ['EOS as the last allowed token', { eos: [chain[3]] }, { maxTokens: 4 }, 4, 'stop'],
  ] as const)('stops on %s', (_name, cfg, extra, numOut, reason) => {
    const h = new Harness({ eosTokenIds: cfg.eos });
    h.scheduler.addRequest(init(1, { maxTokens: 8, ...extra }));
    h.runToCompletion();
    expect(h.outputs.get(1)).toEqual(chain.slice(0, numOut));
    expect(h.finished.get(1)?.reason).toBe(reason);
    if (reason === 'stop') expect(h.finished.get(1)?.stopTokenId).toBe(chain[numOut - 1]);
  });
});

describe('Scheduler: aborts and timeouts', () => {
  it('frees a running request within one schedule and tells the workers to forget it', () => {
    const h = new Harness();
    h.add(1, range(9), { maxTokens: 10 });
    h.add(2, range(3, 50), { maxTokens: 10 });
    h.step();
    expect(h.scheduler.abortRequest(1)).toBe(true);
    expect(h.step()).toEqual<Decision[]>([[2, 3, 1, true]]);
    expect(h.lastOutput?.finishedIds).toEqual([1]);
    expect(h.lastOutput?.finishedRequests).toEqual([{ requestId: 1, reason: 'abort', detail: 'aborted' }]);
    expect(h.scheduler.kvCache.getBlockIds(1)).toEqual([]);
    expect(h.scheduler.kvCache.numFreeBlocks).toBe(32 - 1);
    expect(h.scheduler.abortRequest(1)).toBe(false);
  });

  it('drops a waiting request without telling the workers (they never saw it)', () => {
    const h = new Harness({ maxNumSeqs: 1 });
    h.add(1, range(3));
    h.add(2, range(3));
    h.step();
    h.scheduler.abortRequest(2);
    h.step();
    expect(h.lastOutput?.finishedIds).toEqual([]);
    expect(h.finished.get(2)?.reason).toBe('abort');
  });

  it('drops the tokens of a request aborted while its step ran', () => {
    const h = new Harness();
    h.add(1, range(3));
    const out = h.scheduler.schedule();
    const sampled = h.worker.step(out);
    h.scheduler.abortRequest(1);
    expect(h.scheduler.updateFromOutput(out, sampled)).toEqual([]);
    expect(h.scheduler.schedule().finishedIds).toEqual([1]);
    expect(h.scheduler.kvCache.numFreeBlocks).toBe(32);
  });

  it.each([
    ['before the deadline', 99, 'RUNNING'],
    ['at the deadline', 100, undefined],
  ])('checks deadlines against the caller clock: %s', (_name, now, status) => {
    const h = new Harness();
    h.add(1, range(3), { maxTokens: 10, deadlineMs: 100 });
    h.step(0);
    h.step(now);
    expect(h.scheduler.getRequest(1)?.status).toBe(status);
    if (status === undefined) expect(h.finished.get(1)).toEqual({ requestId: 1, reason: 'abort', detail: 'timeout' });
  });

  it('expires waiting requests too', () => {
    const h = new Harness({ maxNumSeqs: 1 });
    h.add(1, range(3), { maxTokens: 10 });
    h.add(2, range(3), { deadlineMs: 5 });
    h.step(0);
    h.step(5);
    expect(h.finished.get(2)).toMatchObject({ reason: 'abort', detail: 'timeout' });
    expect(h.scheduler.getStats().numWaiting).toBe(0);
  });
});
