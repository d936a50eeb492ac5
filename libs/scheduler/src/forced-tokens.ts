// Forced tokens: tokens appended to a live request that the model did not sample (the server
// closing a thinking block when its budget is spent). They become output tokens like sampled
// ones; the next schedule() computes them together with the newest sampled token as one chunk
// (numTokens - numComputedTokens > 1, exactly like a continuing prefill) and samples after the
// last. Call only between steps (after updateFromOutput, before the next schedule()), or on a
// request still waiting (then the first prefill covers them).
// Added by the coordinator engineer; tests: forced-tokens.spec.ts.

import type { Scheduler } from './scheduler';

/**
 * Appends up to the request's remaining output room; returns how many were appended. When that
 * fills maxTokens the caller should end the request (abortRequest) and report 'length', since no
 * token can be sampled after it.
 */
export function appendForcedTokens<P>(scheduler: Scheduler<P>, requestId: number, tokens: readonly number[]): number {
  const req = scheduler.getRequest(requestId);
  if (req === undefined || req.isFinished || req.isAbortRequested) return 0;
  const room = Math.max(0, req.maxTokens - req.numOutputTokens);
  const n = Math.min(room, tokens.length);
  for (let i = 0; i < n; i++) req.appendOutputToken(tokens[i]);
  return n;
}

/** Output tokens the request may still produce (sampled or forced). */
export function remainingOutputRoom<P>(scheduler: Scheduler<P>, requestId: number): number {
  const req = scheduler.getRequest(requestId);
  return req === undefined ? 0 : Math.max(0, req.maxTokens - req.numOutputTokens);
}
