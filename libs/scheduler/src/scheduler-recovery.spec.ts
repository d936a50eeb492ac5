// Scheduler.resetAfterWorkerLoss: the workers were replaced mid-step; every running request is
// recomputed on fresh workers (a new FakeWorker: no sequences, empty KV) and every output equals
// the fault-free run's (the fake model's reference continuation).
import { describe, expect, it } from 'vitest';
import { emptySchedulerOutput } from './scheduler-output';
import { FakeWorker } from './testing/fake-worker';
import { Harness, range, referenceOutput, VOCAB_SIZE } from './testing/harness';

function freshWorker(h: Harness, numBlocks: number): FakeWorker {
  const worker = new FakeWorker(numBlocks, h.scheduler.config.blockSize, VOCAB_SIZE, (id) => h.scheduler.getRequest(id)?.allTokens ?? []);
  (h as { worker: FakeWorker }).worker = worker;
  return worker;
}

describe('Scheduler: recovery after worker loss', () => {
  it('recomputes every running request on new workers and loses no token', () => {
    const h = new Harness({ maxNumSeqs: 4, numBlocks: 32 });
    const prompts = [range(5, 1), range(7, 10), range(3, 20), range(6, 30), range(4, 40)];
    prompts.forEach((p, i) => h.add(i + 1, p, { maxTokens: 12 }));
    for (let i = 0; i < 4; i++) h.step();
    // the step in flight is lost with the workers
    const lost = h.scheduler.schedule();
    expect(lost.scheduled.length).toBeGreaterThan(0);
    const wasRunning = h.scheduler.resetAfterWorkerLoss(24);
    expect(wasRunning.sort()).toEqual([1, 2, 3, 4]);
    expect(h.scheduler.getStats()).toMatchObject({ numRunning: 0, numWaiting: 5, numFreeBlocks: 24, numPreemptions: 0 });
    freshWorker(h, 24);
    const first = h.scheduler.schedule();
    expect(first.finishedIds).toEqual([]); // the new workers know no sequence to forget
    expect(first.newRequests[0].requestId).toBe(1); // FCFS order survives the reset
    // a recompute covers prompt + outputs so far, and the original prompt length stays the prompt
    const one = first.scheduled.find((s) => s.requestId === 1)!;
    expect(one.startPos).toBe(0);
    expect(one.tokens).toEqual(h.scheduler.getRequest(1)!.allTokens.slice(0, one.tokens.length));
    expect(first.newRequests.find((r) => r.requestId === 1)!.numPromptTokens).toBe(5);
    h.record(h.scheduler.updateFromOutput(first, h.worker.step(first)));
    h.runToCompletion();
    prompts.forEach((p, i) => {
      expect(h.outputs.get(i + 1)).toEqual(referenceOutput(p, 12));
      expect(h.finished.get(i + 1)?.reason).toBe('length');
    });
    expect(h.scheduler.kvCache.numFreeBlocks).toBe(24);
  });

  it('keeps waiting requests and aborts queued before the loss', () => {
    const h = new Harness({ maxNumSeqs: 2 });
    [1, 2, 3].forEach((id) => h.add(id, range(4, id * 5), { maxTokens: 6 }));
    h.step();
    h.scheduler.abortRequest(2);
    h.scheduler.resetAfterWorkerLoss(32);
    freshWorker(h, 32);
    h.runToCompletion();
    expect(h.finished.get(2)?.reason).toBe('abort');
    expect(h.outputs.get(1)).toEqual(referenceOutput(range(4, 5), 6));
    expect(h.outputs.get(3)).toEqual(referenceOutput(range(4, 15), 6));
  });

  it('after a step the workers rejected for one sequence, the others recompute on the same workers', () => {
    const h = new Harness({ maxNumSeqs: 8, numBlocks: 32 });
    const prompts = [range(5, 1), range(7, 10), range(3, 20)];
    prompts.forEach((p, i) => h.add(i + 1, p, { maxTokens: 10 }));
    for (let i = 0; i < 3; i++) h.step();
    h.scheduler.abortRequest(3); // queued to forget, not yet sent
    h.add(4, range(4, 40), { maxTokens: 10 }); // the sequence the workers will reject
    const rejected = h.scheduler.schedule();
    expect(rejected.newRequests.map((r) => r.requestId)).toContain(4);
    expect(rejected.finishedIds).toEqual([3]);
    h.scheduler.abortRequest(4);
    const { resumed, forgetIds } = h.scheduler.resetAfterRejectedStep(rejected);
    expect(resumed.sort()).toEqual([1, 2, 4]);
    // the same worker still knows 1, 2 and 3 (the rejected step ran nowhere), never 4
    expect(forgetIds.sort()).toEqual([1, 2, 3]);
    h.worker.step({ ...emptySchedulerOutput(rejected.stepId), finishedIds: forgetIds }); // throws on an unknown id
    expect(h.scheduler.getStats()).toMatchObject({ numRunning: 0, numFreeBlocks: 32 });
    h.runToCompletion();
    expect(h.finished.get(4)?.reason).toBe('abort');
    [0, 1].forEach((i) => expect(h.outputs.get(i + 1)).toEqual(referenceOutput(prompts[i], 10)));
  });

  // two steps ahead: behind the rejected step, P1 admits 5 and P2 (5 aborted meanwhile) forgets it
  it.each([
    [false, false, [1, 2]],
    [true, false, [1, 2, 5]],
    [true, true, [1, 2]],
  ])('two planned steps behind a rejected one (P1 ran: %s, P2 ran: %s): the workers know %j', (p1Ran, p2Ran, known) => {
    const h = new Harness({ maxNumSeqs: 8, numBlocks: 32, asyncScheduling: true, maxStepsAhead: 2 });
    const prompts = [range(5, 1), range(7, 10)];
    prompts.forEach((p, i) => h.add(i + 1, p, { maxTokens: 10 }));
    for (let i = 0; i < 3; i++) h.step();
    h.report();
    h.add(4, range(4, 40), { maxTokens: 10 }); // the sequence the workers will reject
    const rejected = h.scheduler.schedule();
    h.add(5, range(3, 30), { maxTokens: 10 });
    const p1 = h.scheduler.schedule();
    expect(p1.newRequests.map((r) => r.requestId)).toEqual([5]);
    h.scheduler.abortRequest(5);
    const p2 = h.scheduler.schedule();
    expect(p2.finishedIds).toEqual([5]);
    h.scheduler.abortRequest(4);
    const { resumed, forgetIds } = h.scheduler.resetAfterRejectedStep(rejected, [{ out: p1, hasRun: p1Ran }, { out: p2, hasRun: p2Ran }]);
    expect(resumed.sort()).toEqual([1, 2, 4]);
    expect(forgetIds.sort()).toEqual(known);
    if (p1Ran) return; // the fake worker cannot run P1 (its placeholders follow the rejected step)
    h.worker.step({ ...emptySchedulerOutput(rejected.stepId), finishedIds: forgetIds }); // throws on an unknown id
    h.runToCompletion();
    [0, 1].forEach((i) => expect(h.outputs.get(i + 1)).toEqual(referenceOutput(prompts[i], 10)));
  });
});
