// GenerationSession: one API request's n sequences on the engine (choice i = sequence i; seeded
// requests use seed + i), turned into a single ordered event stream for the HTTP handler:
// parts of choice i, finish of choice i, or one error that ends everything. A matched stop
// string aborts that sequence at once (its blocks are freed by the next step); a timeout becomes
// a 504, a failed worker group a 503. Tests: generation-session.spec.ts.
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import { AsyncQueue } from '../engine/async-queue';
import type { FinishEvent, SequenceRequest, TokenEvent } from '../engine/engine-request';

export interface Choice<P> {
  push(event: TokenEvent): P[];
  flush(): P[];
  readonly isStopped: boolean;
  readonly numTokens: number;
}

export type SessionEvent<P> =
  /** numTokens: the choice's completion tokens when these parts were made (continuous usage). */
  | { kind: 'parts'; index: number; parts: P[]; numTokens: number }
  | { kind: 'finish'; index: number; reason: 'stop' | 'length'; numTokens: number }
  | { kind: 'error'; error: OpenAiError };

/** The engine surface a session needs (EngineLoopService, or a fake in tests). */
export interface SequenceEngine {
  submit(request: SequenceRequest): number;
  abort(requestId: number): void;
}

export interface SessionTimings {
  /** performance.now() when the request arrived (default: when the session was made). */
  arrivedAtMs?: number;
  onFirstToken?(seconds: number): void;
  onInterToken?(seconds: number): void;
  /** A choice ended: finished (stop / length), aborted (client gone) or failed. */
  onChoiceEnd?(reason: 'stop' | 'length' | 'abort' | 'error'): void;
}

export class GenerationSession<P> {
  readonly events = new AsyncQueue<SessionEvent<P>>();
  private readonly seqIds: Array<number | undefined>;
  private readonly isOpen: boolean[];
  private readonly lastTokenAt: number[];
  private readonly startedAt: number;
  private readonly numCachedTokens: Array<number | undefined>;
  private hasFirstToken = false;

  constructor(
    private readonly engine: SequenceEngine,
    readonly choices: Choice<P>[],
    private readonly timings: SessionTimings = {},
  ) {
    this.startedAt = timings.arrivedAtMs ?? performance.now();
    this.seqIds = choices.map(() => undefined);
    this.numCachedTokens = choices.map(() => undefined);
    this.isOpen = choices.map(() => true);
    this.lastTokenAt = choices.map(() => 0);
  }

  get numCompletionTokens(): number {
    return this.choices.reduce((sum, c) => sum + c.numTokens, 0);
  }

  /** Prompt tokens the prefix cache supplied, summed over the choices (first admission each). */
  get numCachedPromptTokens(): number {
    return this.numCachedTokens.reduce<number>((sum, n) => sum + (n ?? 0), 0);
  }

  get isFinished(): boolean {
    return this.events.closed;
  }

  /** Submits one sequence per choice; throws (and aborts those submitted) when one is refused. */
  start(requests: Array<Omit<SequenceRequest, 'listener'>>): void {
    try {
      requests.forEach((request, i) => {
        this.seqIds[i] = this.engine.submit({
          ...request,
          listener: {
            // a recompute after preemption is admitted again: the first admission counts
            onAdmitted: (n) => (this.numCachedTokens[i] ??= Math.min(n, request.promptTokens.length)),
            onToken: (e) => this.onToken(i, e),
            onFinish: (e) => this.onFinish(i, e),
          },
        });
      });
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** Ends every sequence still running (client went away); no more events. */
  abort(): void {
    this.seqIds.forEach((id, i) => {
      if (id !== undefined && this.isOpen[i]) {
        this.engine.abort(id);
        this.timings.onChoiceEnd?.('abort');
      }
      this.isOpen[i] = false;
    });
    this.events.close();
  }

  private onToken(i: number, event: TokenEvent): void {
    if (!this.isOpen[i]) return;
    const now = performance.now();
    // TTFT is the model's first token: forced ones (thinking budget) need no forward pass
    if (!this.hasFirstToken && !event.isForced) {
      this.hasFirstToken = true;
      this.timings.onFirstToken?.((now - this.startedAt) / 1000);
    } else if (this.lastTokenAt[i] > 0 && !event.isForced) {
      this.timings.onInterToken?.((now - this.lastTokenAt[i]) / 1000);
    }
    this.lastTokenAt[i] = now;
    const choice = this.choices[i];
    const parts = choice.push(event);
    if (parts.length > 0) this.events.push({ kind: 'parts', index: i, parts, numTokens: choice.numTokens });
    if (choice.isStopped) {
      // stop string: finish now, free the sequence
      this.engine.abort(this.seqIds[i]!);
      this.finishChoice(i, 'stop');
    }
  }

  private onFinish(i: number, event: FinishEvent): void {
    if (!this.isOpen[i]) return;
    if (event.reason === 'stop' || event.reason === 'length') return this.finishChoice(i, event.reason);
    const error =
      event.error ??
      (event.detail === 'timeout'
        ? new OpenAiError(504, 'The request timed out before generation finished.', null, 'timeout')
        : new OpenAiError(503, `The request was aborted by the server (${event.detail ?? 'unknown reason'}).`, null, 'aborted'));
    this.isOpen[i] = false;
    this.timings.onChoiceEnd?.('error');
    this.events.push({ kind: 'error', error });
    this.abort();
  }

  private finishChoice(i: number, reason: 'stop' | 'length'): void {
    this.isOpen[i] = false;
    this.timings.onChoiceEnd?.(reason);
    const choice = this.choices[i];
    const parts = choice.flush();
    if (parts.length > 0) this.events.push({ kind: 'parts', index: i, parts, numTokens: choice.numTokens });
    this.events.push({ kind: 'finish', index: i, reason, numTokens: choice.numTokens });
    if (!this.isOpen.some(Boolean)) this.events.close();
  }
}
