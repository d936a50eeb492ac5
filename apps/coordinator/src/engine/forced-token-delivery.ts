// ForcedTokens: the engine loop's side of TokenForcer (the thinking budget). append() adds the
// tokens to the scheduler's sequence at once (they are computed by its next step) and returns
// the delivery of their events, which the loop runs at once between steps, or on a microtask
// after submit() so the listener hears of them only once its sequence id is known. Filling
// max tokens ends the sequence with 'length'. A throwing forcer or listener ends its request
// only (onFault).
import type { SamplingParams } from '../../../../libs/native/src/types';
import { appendForcedTokens, remainingOutputRoom } from '../../../../libs/scheduler/src/forced-tokens';
import type { Scheduler } from '../../../../libs/scheduler/src/scheduler';
import type { SequenceRequest, TokenEvent } from './engine-request';
import { finishQuietly, type LiveSequences } from './live-sequences';

const forcedEvent = (token: number): TokenEvent => ({ token, logprob: 0, topLogprobs: [], isForced: true });

export class ForcedTokens {
  constructor(
    private readonly scheduler: Scheduler<SamplingParams>,
    private readonly live: LiveSequences,
    private readonly onFault: (requestId: number, err: unknown, request: SequenceRequest) => void,
    /** onFinish threw: only to log, its finish was delivered. */
    private readonly onFinishError: (requestId: number, err: unknown) => void,
  ) {}

  /** The forcer's answer to a sampled token (usually none). */
  next(requestId: number, request: SequenceRequest, token: number): number[] {
    try {
      return request.forcer?.onToken(token) ?? [];
    } catch (err) {
      this.live.delete(requestId);
      this.onFault(requestId, err, request);
      return [];
    }
  }

  /** Appends now; returns the delivery of the events to the listener. */
  append(requestId: number, tokens: number[]): () => void {
    const room = remainingOutputRoom(this.scheduler, requestId);
    const n = appendForcedTokens(this.scheduler, requestId, tokens);
    const appended = tokens.slice(0, n);
    if (n < room) {
      return () => {
        for (const token of appended) if (!this.live.token(requestId, forcedEvent(token))) return;
      };
    }
    // full: no token can follow; the request leaves the scheduler and the live set now
    const request = this.live.delete(requestId);
    this.scheduler.abortRequest(requestId);
    return () => {
      if (request === undefined) return;
      try {
        for (const token of appended) request.listener.onToken(forcedEvent(token));
      } catch (err) {
        return this.onFault(requestId, err, request);
      }
      finishQuietly(request, { reason: 'length' }, (err) => this.onFinishError(requestId, err));
    };
  }
}
