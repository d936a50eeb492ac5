// StepReport: applies one step's reply to the scheduler (updateFromOutput), tells each
// constraint its token and asks each forcer for forced tokens (the next step must see both),
// and returns the listener deliveries (detokenizer, parsers, SSE) for the loop to run after the
// next step is on its way. Also turns the scheduler's finish records into listener finishes.
import type { SamplingParams, StepOutput } from '../../../../libs/native/src/types';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import type { Scheduler } from '../../../../libs/scheduler/src/scheduler';
import type { FinishedRequest, SchedulerOutput } from '../../../../libs/scheduler/src/scheduler-output';
import type { SequenceRequest, TokenEvent } from './engine-request';
import type { ForcedTokens } from './forced-token-delivery';
import type { LiveSequences } from './live-sequences';

export class StepReport {
  constructor(
    private readonly scheduler: Scheduler<SamplingParams>,
    private readonly live: LiveSequences,
    private readonly forced: ForcedTokens,
    private readonly onListenerFault: (requestId: number, err: unknown, request: SequenceRequest) => void,
  ) {}

  /** Applies `result` (the reply to `out`); returns the listener deliveries, in order. */
  apply(out: SchedulerOutput<SamplingParams>, result: StepOutput): Array<() => void> {
    const samples = new Map(result.samples.map((s) => [s.seqId, s]));
    const updates = this.scheduler.updateFromOutput(out, result.samples.map((s) => ({ requestId: s.seqId, token: s.token })));
    const deliveries: Array<() => void> = [];
    for (const update of updates) {
      const id = update.requestId;
      const seq = this.live.get(id);
      if (seq === undefined) continue;
      const sample = samples.get(id);
      const event: TokenEvent = { token: update.token, logprob: sample?.logprob ?? 0, topLogprobs: sample?.topLogprobs ?? [], isForced: false };
      // the constraint hears the token now, before the next step (sent right after this) asks for its mask
      seq.constraint?.onToken(update.token);
      const forced = update.finished === undefined ? this.forced.next(id, seq, update.token) : [];
      const deliverForced = forced.length > 0 ? this.forced.append(id, forced) : undefined;
      const isEndedByForce = deliverForced !== undefined && !this.live.has(id); // forced tokens filled max tokens
      deliveries.push(() => {
        if (isEndedByForce) {
          try {
            seq.listener.onToken(event);
          } catch (err) {
            return this.onListenerFault(id, err, seq);
          }
        } else if (!this.live.token(id, event)) {
          return; // aborted meanwhile (stop string, client gone) or its listener failed
        }
        if (update.finished !== undefined) this.finish([update.finished]);
        deliverForced?.();
      });
    }
    return deliveries;
  }

  /** The listeners of requests the scheduler finished hear of it (an error: a 400 naming why). */
  finish(finished: readonly FinishedRequest[]): void {
    for (const f of finished) {
      if (f.reason === 'error') {
        const error = OpenAiError.invalid(f.detail ?? 'the request cannot be served', null, 'request_too_large');
        this.live.finish(f.requestId, { reason: 'error', detail: f.detail, error });
      } else {
        this.live.finish(f.requestId, { reason: f.reason, detail: f.detail });
      }
    }
  }
}
