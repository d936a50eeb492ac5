// LiveSequences: the engine loop's sequences that still owe their client events, with fault
// containment: a listener that throws (its parser, detokenizer, stop matcher) ends that
// sequence only (onListenerFault), never the loop. Every sequence gets exactly one finish.
import type { FinishEvent, SequenceRequest, TokenEvent } from './engine-request';

export class LiveSequences {
  private readonly live = new Map<number, SequenceRequest>();

  constructor(
    /** onToken threw: the sequence is already removed; end it (its one finish). */
    private readonly onListenerFault: (requestId: number, err: unknown, request: SequenceRequest) => void,
    /** onFinish threw: nothing is left to deliver, only to log. */
    private readonly onFinishError: (requestId: number, err: unknown) => void,
  ) {}

  ids(): number[] {
    return [...this.live.keys()];
  }

  get size(): number {
    return this.live.size;
  }

  add(requestId: number, request: SequenceRequest): void {
    this.live.set(requestId, request);
  }

  get(requestId: number): SequenceRequest | undefined {
    return this.live.get(requestId);
  }

  has(requestId: number): boolean {
    return this.live.has(requestId);
  }

  /** Forgets a sequence without telling its listener (the caller does, or it was aborted). */
  delete(requestId: number): SequenceRequest | undefined {
    const request = this.live.get(requestId);
    this.live.delete(requestId);
    return request;
  }

  /** Delivers a token; false when the sequence is gone or its listener threw (then it is ended). */
  token(requestId: number, event: TokenEvent): boolean {
    const request = this.live.get(requestId);
    if (request === undefined) return false;
    try {
      request.listener.onToken(event);
      return true;
    } catch (err) {
      this.live.delete(requestId);
      this.onListenerFault(requestId, err, request);
      return false;
    }
  }

  /** Tells an admitted sequence how many prompt tokens the prefix cache supplied (contained like token). */
  admitted(requestId: number, numCachedTokens: number): void {
    const request = this.live.get(requestId);
    if (request?.listener.onAdmitted === undefined) return;
    try {
      request.listener.onAdmitted(numCachedTokens);
    } catch (err) {
      this.live.delete(requestId);
      this.onListenerFault(requestId, err, request);
    }
  }

  /** Removes the sequence and delivers its one finish. */
  finish(requestId: number, event: FinishEvent): void {
    const request = this.live.get(requestId);
    if (request === undefined) return;
    this.live.delete(requestId);
    finishQuietly(request, event, (err) => this.onFinishError(requestId, err));
  }

  /** Ends every sequence with `event`. */
  finishAll(event: FinishEvent): void {
    for (const id of [...this.live.keys()]) this.finish(id, event);
  }
}

/** onFinish that cannot throw: a failure goes to `onError`. */
export function finishQuietly(request: SequenceRequest, event: FinishEvent, onError: (err: unknown) => void): void {
  try {
    request.listener.onFinish(event);
  } catch (err) {
    onError(err);
  }
}
