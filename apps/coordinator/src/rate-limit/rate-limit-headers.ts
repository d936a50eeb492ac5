// OpenAI's rate-limit response headers from a window decision: limit / remaining / reset for
// requests and tokens (a dimension the key does not limit is left out), and Retry-After (whole
// seconds until the window resets) on a 429.
import type { RateDecision } from '../../../../libs/store/src/rate-window';

export interface KeyLimits {
  rpm: number;
  tpm: number;
}

function resetIn(ms: number): string {
  return `${Math.max(0, Math.ceil(ms / 1000))}s`;
}

export function rateLimitHeaders(limits: KeyLimits, decision: RateDecision, nowMs: number): Record<string, string> {
  const headers: Record<string, string> = {};
  const reset = resetIn(decision.resetAtMs - nowMs);
  if (limits.rpm > 0) {
    headers['x-ratelimit-limit-requests'] = String(limits.rpm);
    headers['x-ratelimit-remaining-requests'] = String(Math.max(0, limits.rpm - decision.numRequests));
    headers['x-ratelimit-reset-requests'] = reset;
  }
  if (limits.tpm > 0) {
    headers['x-ratelimit-limit-tokens'] = String(limits.tpm);
    headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, limits.tpm - decision.numTokens));
    headers['x-ratelimit-reset-tokens'] = reset;
  }
  return headers;
}

export function retryAfterSeconds(decision: RateDecision, nowMs: number): number {
  return Math.max(1, Math.ceil((decision.resetAtMs - nowMs) / 1000));
}
