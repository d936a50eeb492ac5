// What the engine loop takes per sequence and what it reports back: each sampled (or forced)
// token with its logprobs, then exactly one finish. Listeners are called synchronously from the
// loop, between steps, so they must be cheap and must not throw.
import type { SamplingParams } from '../../../../libs/native/src/types';
import type { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';

export interface TokenEvent {
  token: number;
  /** Log-probability of the token (0 for a forced token). */
  logprob: number;
  /** [tokenId, logprob], best first (empty for a forced token or when none were asked). */
  topLogprobs: Array<[number, number]>;
  /** The server appended this token (thinking budget), the model did not sample it. */
  isForced: boolean;
}

export interface FinishEvent {
  /** stop: eos / stop token; length: max tokens or context; abort: timeout; error: see `error`. */
  reason: 'stop' | 'length' | 'abort' | 'error';
  detail?: string;
  error?: OpenAiError;
}

export interface SequenceListener {
  /** The scheduler admitted the sequence; `numCachedTokens` came from the prefix cache. */
  onAdmitted?(numCachedTokens: number): void;
  onToken(event: TokenEvent): void;
  onFinish(event: FinishEvent): void;
}

/** Appends tokens the model did not sample (the thinking budget's closing words). */
export interface TokenForcer {
  /** Tokens to force before the first sample (e.g. budget 0 with the block already open). */
  start(): number[];
  /** Called after each sampled token; returns the tokens to force next (usually none). */
  onToken(token: number): number[];
}

/** Structured outputs: which ids the next sample may take (libs/structured-output's TokenConstraint). */
export interface SampleConstraint {
  /** Bitmask over the model's vocabulary (bit i of word w: id 32 * w + i); undefined: any id. */
  mask(): Uint32Array | undefined;
  /** Whether mask() answers at once (else it is being computed: the sequence sits out the step). */
  isReady(): boolean;
  /** Every token appended to the sequence, sampled or forced. */
  onToken(token: number): void;
}

export interface SequenceRequest {
  promptTokens: number[];
  params: SamplingParams;
  maxTokens?: number;
  minTokens?: number;
  stopTokenIds?: number[];
  ignoreEos?: boolean;
  /** Scheduling priority: lower runs first (0 by default). */
  priority?: number;
  /** Absolute deadline (Date.now() clock). */
  deadlineMs?: number;
  forcer?: TokenForcer;
  constraint?: SampleConstraint;
  listener: SequenceListener;
}
