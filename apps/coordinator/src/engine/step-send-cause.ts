// Why a step went to the workers when it did: sent ahead (while the step before it still ran,
// the workers start it the moment that one ends) or only after the previous reply, and then why
// it could not be sent ahead. Every step the workers waited for is counted under its cause
// (tpserve_step_wait_cause_*), so `tpserve bench` shows where the time between steps comes from.
import type { SamplingParams } from '../../../../libs/native/src/types';
import type { Scheduler } from '../../../../libs/scheduler/src/scheduler';

export const STEP_SEND_CAUSES = [
  /** Sent while the step before it ran: a wait means the coordinator was late (event loop, GC, its own work). */
  'sent_ahead',
  /** Synchronous scheduling (--async-scheduling off): every step waits for the previous reply. */
  'synchronous',
  /** Every running sequence was at its last token: nothing was left to plan before the reply. */
  'last_tokens',
  /** The running sequences' next input depended on the reply (structured output, forced tokens). */
  'needs_reply',
  /** Nothing was running or waiting when the step ahead was planned: the request arrived later. */
  'late_arrival',
  /** Planned right after a forget-only step or an empty plan with work left (KV, budget). */
  'other',
] as const;
export type StepSendCause = (typeof STEP_SEND_CAUSES)[number];

/**
 * Why schedule() planned nothing while a step with work was on the workers, from the scheduler's
 * state right after it: the cause a step sent after that step's reply carries.
 */
export function whyNothingPlanned(scheduler: Scheduler<SamplingParams>, runningIds: Iterable<number>): StepSendCause {
  let numRunning = 0;
  let numNeedReply = 0;
  for (const id of runningIds) {
    const req = scheduler.getRequest(id);
    if (req === undefined || req.status !== 'RUNNING') continue;
    numRunning++;
    if (req.numPendingSamples > 0 && !req.isSpeculationAllowed) numNeedReply++;
  }
  if (numRunning === 0) return scheduler.getStats().numWaiting === 0 ? 'late_arrival' : 'other';
  return numNeedReply > 0 ? 'needs_reply' : 'last_tokens';
}
