// Per-key rate limits in fixed one-minute windows (what OpenAI's rpm / tpm mean): a request
// counter and a token counter per (key, window), both expiring after the window. Requests are
// counted at admission; tokens are reserved once the prompt is tokenized (prompt + max_tokens)
// and corrected to the real count when the request ends (adjustTokens on the same window).
export const RATE_WINDOW_MS = 60_000;

export interface RateLimitRequest {
  keyId: string;
  /** 0: unlimited. */
  rpm: number;
  tpm: number;
  nowMs: number;
}

export interface TokenReservation {
  keyId: string;
  tpm: number;
  numTokens: number;
  nowMs: number;
}

export interface RateDecision {
  isAllowed: boolean;
  /** Counts in the window after this decision. */
  numRequests: number;
  numTokens: number;
  windowStartMs: number;
  /** When the window ends (the counters reset). */
  resetAtMs: number;
}

export function windowStart(nowMs: number): number {
  return nowMs - (nowMs % RATE_WINDOW_MS);
}

/** The limit checks both stores apply (Redis runs the same rules in Lua, redis-scripts.ts). */
export function decideAdmission(numRequests: number, numTokens: number, rpm: number, tpm: number): boolean {
  return !(rpm > 0 && numRequests >= rpm) && !(tpm > 0 && numTokens >= tpm);
}

export function decideReservation(numTokens: number, requested: number, tpm: number): boolean {
  return !(tpm > 0 && numTokens + requested > tpm);
}
