// Scheduler configuration and its validation (vLLM's SchedulerConfig + CacheConfig subset).

import { InvalidRequestError } from './errors';

export interface SchedulerConfig {
  /** Token budget of one step (prefill chunks + decode tokens). */
  maxNumBatchedTokens: number;
  /** Most requests running at once (and so scheduled in one step). */
  maxNumSeqs: number;
  /** Bound of the waiting queue; addRequest throws QueueFullError beyond it. */
  maxWaiting: number;
  /** Split long prompts across steps; when false a prompt is computed in one step. */
  enableChunkedPrefill: boolean;
  /** With chunked prefill, cap a single request's prefill chunk so others keep running. */
  longPrefillTokenThreshold?: number;
  /**
   * Prefill cost budget (prefill-budget.ts): while requests decode, a step carrying prompt
   * chunks is predicted to take at most this many times the same step's decodes alone (> 1; the
   * cost model is fitted from recordStepTime()). The first chunk of a step still gets one token,
   * so a prefill always finishes (past the context where one token's attention alone exceeds the
   * budget, that step exceeds the ratio). Default: no budget.
   */
  maxPrefillStepRatio?: number;
  blockSize: number;
  numBlocks: number;
  maxModelLen: number;
  /** Automatic prefix caching (default true). */
  enablePrefixCaching?: boolean;
  /** The model's EOS ids (stop unless a request sets ignoreEos). */
  eosTokenIds?: readonly number[];
  /**
   * Async scheduling (default false): schedule() may run while one step is unreported, assuming
   * its sampled tokens (placeholders, see resolvePlaceholders) so step N+1 is ready when N ends.
   */
  asyncScheduling?: boolean;
  /**
   * With async scheduling, how many steps schedule() may plan beyond the oldest unreported one
   * (default 1; 2 keeps two steps queued behind the running one, so a reply that reaches the
   * coordinator late by up to a step still finds the workers busy). Each step's placeholders
   * stand for the step right before it, which the workers ran just before.
   */
  maxStepsAhead?: number;
  /**
   * Whether a request's next sample may be taken now (structured outputs: its allowed-token mask
   * is known; asking may start computing it). One that is not sits out the step: a decode is
   * skipped, a prefill chunk stops one token short of sampling, and an async step drops its
   * entry when reconciled. Default: always ready.
   */
  isSampleReady?: (requestId: number) => boolean;
}

function positiveInt(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
    throw new InvalidRequestError(`scheduler config: ${name} must be a positive integer, got ${v}`);
  }
}

/** Throws InvalidRequestError on a config the scheduler cannot honour. */
export function validateSchedulerConfig(c: SchedulerConfig): void {
  positiveInt('maxNumBatchedTokens', c.maxNumBatchedTokens);
  positiveInt('maxNumSeqs', c.maxNumSeqs);
  positiveInt('maxWaiting', c.maxWaiting);
  positiveInt('blockSize', c.blockSize);
  positiveInt('numBlocks', c.numBlocks);
  positiveInt('maxModelLen', c.maxModelLen);
  positiveInt('longPrefillTokenThreshold', c.longPrefillTokenThreshold);
  const ratio = c.maxPrefillStepRatio;
  if (ratio !== undefined && !(Number.isFinite(ratio) && ratio > 1)) {
    throw new InvalidRequestError(`scheduler config: maxPrefillStepRatio must be a number above 1, got ${ratio}`);
  }
  if (c.maxStepsAhead !== undefined && c.maxStepsAhead !== 1 && c.maxStepsAhead !== 2) {
    throw new InvalidRequestError(`scheduler config: maxStepsAhead must be 1 or 2, got ${c.maxStepsAhead}`);
  }
  // without chunking a whole prompt (up to maxModelLen) must fit one step, or it would wait forever
  if (!c.enableChunkedPrefill && c.maxNumBatchedTokens < c.maxModelLen) {
    throw new InvalidRequestError(
      `scheduler config: without chunked prefill maxNumBatchedTokens (${c.maxNumBatchedTokens}) must be >= maxModelLen (${c.maxModelLen})`,
    );
  }
}
