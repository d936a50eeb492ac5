// What one schedule() call decides (one model step) and what updateFromOutput() reports back.
// Deltas only, matching the step contract: new sequences, per-sequence tokens to compute and
// newly appended block ids, and the ids the workers must forget. See step-input.ts.

import type { FinishReason } from './request';

/** A request sent to the workers for the first time since it was (re)started. */
export interface NewRequestData<P> {
  requestId: number;
  samplingParams: P;
  /** Original prompt length (positions before it count as prompt for penalties). */
  numPromptTokens: number;
}

/**
 * Async scheduling: a token the step before this one samples, unknown when this step was
 * scheduled and sent. The workers put in the token they sampled for that sequence at that
 * position; Scheduler.resolvePlaceholders() fills the coordinator's copy once that step reported.
 */
export const PLACEHOLDER_TOKEN = -1;

/** One request's work this step: a prefill chunk, a recompute chunk or one decode token. */
export interface ScheduledRequest {
  requestId: number;
  /** The token ids to compute, at positions startPos .. startPos + tokens.length - 1 (async: may end in PLACEHOLDER_TOKEN). */
  tokens: number[];
  /** Every position before startPos is already in the KV cache (computed or a prefix hit). */
  startPos: number;
  /** Block ids appended to this request's block table by this step (prefix hits included). */
  newBlockIds: number[];
  /** This chunk reaches the last known token: sample the next one. */
  sample: boolean;
}

/** A request that ended, with why. `detail` says more for abort (e.g. 'timeout') and error. */
export interface FinishedRequest {
  requestId: number;
  reason: FinishReason;
  stopTokenId?: number;
  detail?: string;
}

export interface SchedulerOutput<P> {
  stepId: number;
  newRequests: NewRequestData<P>[];
  scheduled: ScheduledRequest[];
  /** Sequences the workers must forget: finished, aborted or preempted since the last step. */
  finishedIds: number[];
  /** The subset of finishedIds preempted by this step (they will be sent as new again). */
  preemptedIds: number[];
  /** Requests ended while scheduling (aborts, timeouts, errors); tell their clients. */
  finishedRequests: FinishedRequest[];
  /** Sum of tokens.length over `scheduled`; never above maxNumBatchedTokens. */
  numBatchedTokens: number;
}

/** A sampled token fed back from the workers. */
export interface SampledToken {
  requestId: number;
  token: number;
}

/** Per-request result of a step: the new token, and `finished` when it was the last one. */
export interface RequestUpdate {
  requestId: number;
  token: number;
  finished?: FinishedRequest;
}

export interface SchedulerStats {
  numRunning: number;
  numWaiting: number;
  numFreeBlocks: number;
  /** Fraction of KV blocks owned by requests, in [0, 1]. */
  kvUsage: number;
  /** Prefix-cache hits / queries, in tokens. */
  prefixCacheHitRate: number;
  /** Prompt tokens looked up in / found in the prefix cache since the start (counters). */
  numPrefixQueryTokens: number;
  numPrefixHitTokens: number;
  numPreemptions: number;
  /** Prompt positions scheduled for computing so far (prefix hits and shared prefills skip theirs). */
  numPromptTokensComputed: number;
}

export function emptySchedulerOutput<P>(stepId: number): SchedulerOutput<P> {
  return { stepId, newRequests: [], scheduled: [], finishedIds: [], preemptedIds: [], finishedRequests: [], numBatchedTokens: 0 };
}

/**
 * Schedules positions [startPos, startPos + n) of allTokens followed by `numPlaceholders` tokens
 * still being sampled; samples when that reaches the last of them.
 */
export function addScheduled(
  out: SchedulerOutput<unknown>,
  requestId: number,
  allTokens: readonly number[],
  startPos: number,
  n: number,
  newBlockIds: number[],
  numPlaceholders = 0,
): void {
  const tokens = allTokens.slice(startPos, startPos + n);
  while (tokens.length < n) tokens.push(PLACEHOLDER_TOKEN);
  out.scheduled.push({ requestId, tokens, startPos, newBlockIds, sample: startPos + n === allTokens.length + numPlaceholders });
  out.numBatchedTokens += n;
}
