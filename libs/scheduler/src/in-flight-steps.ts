// The steps scheduled but not yet reported (one synchronously, two with async scheduling), each
// with the preemption epoch of every scheduled request, and the reconciliation of an async step
// once the step before it reported: placeholders become the sampled tokens, and an entry that no
// longer applies is rolled back (vLLM's async scheduler discards the speculative token the same
// way when a stop or EOS shows up late). Used by Scheduler only; tests: scheduler-async.spec.ts.

import type { Request } from './request';
import type { RequestRegistry } from './request-registry';
import { PLACEHOLDER_TOKEN, type ScheduledRequest, type SchedulerOutput } from './scheduler-output';

export interface InFlightStep<P> {
  readonly out: SchedulerOutput<P>;
  /** numPreemptions of each scheduled request when scheduled: a later preemption voids its entry. */
  epochs: number[];
}

export class InFlightSteps<P> {
  private readonly steps: InFlightStep<P>[] = [];

  get length(): number {
    return this.steps.length;
  }

  get head(): InFlightStep<P> | undefined {
    return this.steps[0];
  }

  push(out: SchedulerOutput<P>, registry: RequestRegistry<P>): void {
    this.steps.push({ out, epochs: out.scheduled.map((e) => (registry.get(e.requestId) as Request<P>).numPreemptions) });
  }

  shift(): InFlightStep<P> | undefined {
    return this.steps.shift();
  }

  clear(): void {
    this.steps.length = 0;
  }

  find(out: SchedulerOutput<P>): InFlightStep<P> | undefined {
    return this.steps.find((s) => s.out === out);
  }
}

/** Whether the entry still describes the request's next work, given every token known now. */
function stillApplies<P>(e: ScheduledRequest, req: Request<P> | undefined, epoch: number): boolean {
  if (req === undefined || req.isAbortRequested || req.status !== 'RUNNING' || req.numPreemptions !== epoch) return false;
  const end = e.startPos + e.tokens.length;
  // a sampling chunk must end at the last token: a late stop, or forced tokens, change that
  return e.sample ? end === req.numTokens : end < req.numTokens;
}

/**
 * Reconciles `step` (scheduled while the step before it ran, which has now reported): fills its
 * placeholders and drops the entries that no longer apply, rolling back their accounting. The
 * block ids a dropped entry appended are handed to the request's next entry. A sampling entry
 * of a request whose sample `isSampleReady` says is not ready is dropped too (it sits out this
 * step), unless the step admitted the request (schedule() checked it then).
 */
export function reconcileStep<P>(step: InFlightStep<P>, registry: RequestRegistry<P>, isSampleReady?: (requestId: number) => boolean): void {
  const { out } = step;
  const kept: ScheduledRequest[] = [];
  const keptEpochs: number[] = [];
  const admitted = isSampleReady === undefined ? undefined : new Set(out.newRequests.map((r) => r.requestId));
  const isReady = (e: ScheduledRequest): boolean => !e.sample || admitted === undefined || admitted.has(e.requestId) || isSampleReady!(e.requestId);
  out.scheduled.forEach((e, i) => {
    const req = registry.get(e.requestId);
    if (req !== undefined && stillApplies(e, req, step.epochs[i]) && isReady(e)) {
      for (let j = 0; j < e.tokens.length; j++) {
        if (e.tokens[j] === PLACEHOLDER_TOKEN) e.tokens[j] = req.allTokens[e.startPos + j];
      }
      kept.push(e);
      keptEpochs.push(step.epochs[i]);
      return;
    }
    out.numBatchedTokens -= e.tokens.length;
    if (req === undefined || req.numPreemptions !== step.epochs[i]) return; // gone or reset already
    req.numInFlightTokens -= e.tokens.length;
    if (e.sample) req.numPendingSamples--;
    req.unsentBlockIds.unshift(...e.newBlockIds);
  });
  out.scheduled = kept;
  step.epochs = keptEpochs;
}
