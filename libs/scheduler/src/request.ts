// A request (vLLM's Request / nano-vllm's Sequence) as the scheduler tracks it: prompt and
// output tokens, how many of them are in the KV cache, status, limits, priority and its block
// table mirror. Mutated only by the Scheduler; callers see it read-only.

import type { BlockHash } from '../../kv-cache/src/block-hash';
import type { KvCacheRequest } from '../../kv-cache/src/block-manager';
import { ContextLengthExceededError, InvalidRequestError } from './errors';

export type RequestStatus =
  | 'WAITING'
  | 'RUNNING'
  | 'PREEMPTED'
  | 'FINISHED_STOPPED'
  | 'FINISHED_LENGTH'
  | 'FINISHED_ABORTED'
  | 'FINISHED_ERROR';

/** Why a request finished: stop (eos / stop token), length, abort (incl. timeout), error. */
export type FinishReason = 'stop' | 'length' | 'abort' | 'error';

export const FINISHED_STATUS: Record<FinishReason, RequestStatus> = {
  stop: 'FINISHED_STOPPED',
  length: 'FINISHED_LENGTH',
  abort: 'FINISHED_ABORTED',
  error: 'FINISHED_ERROR',
};

/** What addRequest takes. `P` (sampling params) is passed through to the workers untouched. */
export interface RequestInit<P> {
  /** Caller-chosen id, unique among live requests; it is the workers' seqId. */
  requestId: number;
  promptTokens: readonly number[];
  samplingParams: P;
  /** Output token limit; default: whatever room maxModelLen leaves. */
  maxTokens?: number;
  /** EOS and stop tokens are ignored until this many tokens are generated (default 0). */
  minTokens?: number;
  stopTokenIds?: readonly number[];
  /** Do not stop on the model's EOS ids (stop token ids still apply). */
  ignoreEos?: boolean;
  /** Priority class: lower runs first (default 0); FCFS inside a class. */
  priority?: number;
  /** Caller's clock at arrival, for metrics only (ordering uses admission order). */
  arrivalTimeMs?: number;
  /** Absolute deadline on the caller's clock; compared with the `now` given to schedule(). */
  deadlineMs?: number;
  /**
   * Async scheduling may plan its next decode before its last token is known (default true).
   * False when the caller decides its next input from each token (forced thinking-budget tokens,
   * a structured-output mask): it is then scheduled only once its pending token reported.
   */
  isSpeculationAllowed?: boolean;
}

export class Request<P = unknown> implements KvCacheRequest {
  readonly requestId: number;
  readonly promptTokens: readonly number[];
  readonly outputTokens: number[] = [];
  /** Prompt then outputs; after a preemption the outputs are recomputed as part of the prompt. */
  readonly allTokens: number[];
  readonly blockHashes: BlockHash[] = [];
  /** Mirror of this request's block table in the BlockManager (empty while not running). */
  readonly blockIds: number[] = [];
  readonly samplingParams: P;
  readonly maxTokens: number;
  readonly minTokens: number;
  readonly stopTokenIds: readonly number[];
  readonly ignoreEos: boolean;
  readonly priority: number;
  readonly arrivalTimeMs: number;
  readonly deadlineMs: number | undefined;
  readonly isSpeculationAllowed: boolean;
  status: RequestStatus = 'WAITING';
  /** Tokens whose KV a reported step wrote (prefix hits included). */
  numComputedTokens = 0;
  /** Async scheduling: tokens in steps scheduled but not yet reported; the next chunk starts after them. */
  numInFlightTokens = 0;
  /** Async scheduling: tokens an unreported step will sample (placeholders until it reports). */
  numPendingSamples = 0;
  /**
   * Async scheduling: samples of unreported steps planned before its last preemption (their
   * tokens still arrive and join the outputs). It is not re-admitted before they did, or its
   * recompute would end before them.
   */
  numStaleSamples = 0;
  /** Also the epoch of its in-flight entries: a step scheduled before a preemption no longer applies. */
  numPreemptions = 0;
  finishReason: FinishReason | null = null;
  /** The eos / stop token that ended the request, if any. */
  stopTokenId: number | null = null;
  /** The workers hold this sequence (sent as new, not yet forgotten). */
  isKnownToWorker = false;
  isAbortRequested = false;

  constructor(
    init: RequestInit<P>,
    /** Admission order, the FCFS tie-breaker inside a priority class. */
    readonly arrivalSeq: number,
    defaultMaxTokens: number,
  ) {
    this.requestId = init.requestId;
    this.promptTokens = init.promptTokens; // read-only by contract: not copied (a 100K-token copy costs ms)
    this.allTokens = init.promptTokens.slice();
    this.samplingParams = init.samplingParams;
    this.maxTokens = init.maxTokens ?? defaultMaxTokens;
    this.minTokens = init.minTokens ?? 0;
    this.stopTokenIds = init.stopTokenIds ?? [];
    this.ignoreEos = init.ignoreEos ?? false;
    this.priority = init.priority ?? 0;
    this.arrivalTimeMs = init.arrivalTimeMs ?? 0;
    this.deadlineMs = init.deadlineMs;
    this.isSpeculationAllowed = init.isSpeculationAllowed ?? true;
  }

  get numTokens(): number {
    return this.allTokens.length;
  }
  /** Position of the next token to schedule (numComputedTokens in the synchronous scheduler). */
  get numScheduledTokens(): number {
    return this.numComputedTokens + this.numInFlightTokens;
  }
  get numPromptTokens(): number {
    return this.promptTokens.length;
  }
  get numOutputTokens(): number {
    return this.outputTokens.length;
  }
  get isFinished(): boolean {
    return this.finishReason !== null;
  }

  appendOutputToken(token: number): void {
    this.outputTokens.push(token);
    this.allTokens.push(token);
  }

  finish(reason: FinishReason): void {
    this.finishReason = reason;
    this.status = FINISHED_STATUS[reason];
  }
}

/** Scheduling order: lower priority number first, then earlier admission. */
export function compareRequests(a: Request<unknown>, b: Request<unknown>): number {
  return a.priority - b.priority || a.arrivalSeq - b.arrivalSeq;
}

/**
 * Checks a request against the context length and returns its effective maxTokens. Throws
 * InvalidRequestError (empty prompt, maxTokens < 1) or ContextLengthExceededError.
 */
export function validateRequestInit(init: RequestInit<unknown>, maxModelLen: number): number {
  const numPrompt = init.promptTokens.length;
  if (numPrompt === 0) throw new InvalidRequestError('the prompt is empty');
  if (init.maxTokens === undefined) {
    if (numPrompt >= maxModelLen) throw new ContextLengthExceededError(numPrompt, 1, maxModelLen);
    return maxModelLen - numPrompt;
  }
  if (!Number.isInteger(init.maxTokens) || init.maxTokens < 1) {
    throw new InvalidRequestError(`maxTokens must be a positive integer, got ${init.maxTokens}`);
  }
  if (numPrompt + init.maxTokens > maxModelLen) throw new ContextLengthExceededError(numPrompt, init.maxTokens, maxModelLen);
  return init.maxTokens;
}
