// The steps scheduled but not yet reported (one synchronously, up to 1 + maxStepsAhead with async scheduling), each
// with the preemption epoch of every scheduled request, and the reconciliation of an async step
// once the step before it reported: placeholders become the sampled tokens, and the speculative
// token of a request that stopped late is discarded (as vLLM's async scheduler does). Used by
// Scheduler only; tests: scheduler-async.spec.ts.

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
function stillApplies<P>(e: ScheduledRequest, req: Request<P>, epoch: number): boolean {
  if (req.status !== 'RUNNING' || req.numPreemptions !== epoch) return false;
  const end = e.startPos + e.tokens.length;
  // a sampling chunk must end at the last token: a late stop, or forced tokens, change that
  return e.sample ? end === req.numTokens : end < req.numTokens;
}

/**
 * Settles `step` (sent while the step before it ran, which has now reported): fills its
 * placeholders with the sampled tokens. An entry of a request that ended or was aborted
 * meanwhile stays as it is (its result is dropped when the step reports). An entry of a request
 * still running that no longer matches its tokens would mean the workers computed a wrong
 * token: the scheduler never speculates where that can happen (isSpeculationAllowed), so it
 * throws.
 */
export function reconcileStep<P>(step: InFlightStep<P>, registry: RequestRegistry<P>): void {
  step.out.scheduled.forEach((e, i) => {
    const req = registry.get(e.requestId);
    if (req === undefined || req.isAbortRequested) return; // ended meanwhile: its token is dropped
    if (req.numPreemptions !== step.epochs[i]) return; // preempted since (two steps ahead): void, its token still joins
    if (!stillApplies(e, req, step.epochs[i])) {
      throw new Error(`step ${step.out.stepId} was sent ahead for request ${e.requestId}, whose tokens changed since (positions ${e.startPos}..${e.startPos + e.tokens.length - 1}, ${req.numTokens} tokens now)`);
    }
    for (let j = 0; j < e.tokens.length; j++) {
      if (e.tokens[j] === PLACEHOLDER_TOKEN) e.tokens[j] = req.allTokens[e.startPos + j];
    }
  });
}
