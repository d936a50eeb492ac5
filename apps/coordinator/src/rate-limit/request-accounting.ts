// RequestAccounting: one request's share of its key's limits and usage. The guard admits it
// (rpm, and tpm not yet spent); the generation service reserves prompt + max tokens once the
// prompt is tokenized; at the end the reservation is corrected to the real count and a usage
// record is written (UsageRecorder retries it while Redis is down). Over a limit: 429
// rate_limit_exceeded with Retry-After and OpenAI's x-ratelimit-* headers.
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import type { ApiKeyRecord } from '../../../../libs/store/src/api-key-record';
import type { RateDecision } from '../../../../libs/store/src/rate-window';
import type { Store } from '../../../../libs/store/src/store';
import { ANONYMOUS_KEY_ID, type UsageCounts } from '../../../../libs/store/src/usage-record';
import { orUnavailable } from '../store/store-errors';
import type { UsageRecorder } from '../usage/usage-recorder.service';
import { rateLimitHeaders, retryAfterSeconds } from './rate-limit-headers';

/** What one finished (or abandoned) request used. */
export interface RequestUsage extends Omit<UsageCounts, 'numRequests'> {
  model: string;
}

export class RequestAccounting {
  /** Called with the x-ratelimit-* headers after each decision (the interceptor sets them). */
  onHeaders: (headers: Record<string, string>) => void = () => undefined;
  private lastDecision: RateDecision | undefined;
  private reservation: { windowStartMs: number; numTokens: number } | undefined;
  private isFinished = false;

  constructor(
    private readonly store: Store,
    private readonly usage: UsageRecorder,
    private readonly key: ApiKeyRecord | undefined,
    private readonly log: (line: string) => void,
  ) {}

  get headers(): Record<string, string> {
    return this.key && this.lastDecision ? rateLimitHeaders(this.key, this.lastDecision, Date.now()) : {};
  }

  /** Counts the request against rpm; refuses it when rpm or tpm is spent in this window. */
  async admit(): Promise<void> {
    const key = this.key;
    if (!key || (key.rpm === 0 && key.tpm === 0)) return;
    const decision = await orUnavailable(() => this.store.admitRequest({ keyId: key.id, rpm: key.rpm, tpm: key.tpm, nowMs: Date.now() }));
    this.decided(decision);
    if (!decision.isAllowed) {
      const isRequests = key.rpm > 0 && decision.numRequests >= key.rpm;
      const what = isRequests ? `requests per minute (limit ${key.rpm})` : `tokens per minute (limit ${key.tpm})`;
      throw this.limited(decision, isRequests ? 'requests' : 'tokens', `Rate limit reached for ${what} on API key ${key.id}.`);
    }
  }

  /** Reserves prompt + max tokens against tpm before generation starts. */
  async reserveTokens(numTokens: number): Promise<void> {
    const key = this.key;
    if (!key || key.tpm === 0) return;
    const decision = await orUnavailable(() => this.store.reserveTokens({ keyId: key.id, tpm: key.tpm, numTokens, nowMs: Date.now() }));
    this.decided(decision);
    if (!decision.isAllowed) {
      const detail = numTokens > key.tpm ? ' The request alone exceeds the limit: lower max_tokens or the prompt.' : '';
      throw this.limited(decision, 'tokens', `Rate limit reached for tokens per minute (limit ${key.tpm}, used ${decision.numTokens}, requested ${numTokens}) on API key ${key.id}.${detail}`);
    }
    this.reservation = { windowStartMs: decision.windowStartMs, numTokens };
  }

  /** The end of the request: `usage` undefined when it never started generating. Never throws. */
  finish(usage: RequestUsage | undefined): void {
    if (this.isFinished) return;
    this.isFinished = true;
    const keyId = this.key?.id ?? ANONYMOUS_KEY_ID;
    if (this.reservation) {
      const used = usage ? usage.promptTokens + usage.completionTokens : 0;
      const delta = used - this.reservation.numTokens;
      if (delta !== 0) {
        this.store.adjustTokens(keyId, this.reservation.windowStartMs, delta).catch((err: Error) => this.log(`token count of ${keyId} not corrected by ${delta}: ${err.message}`));
      }
    }
    if (usage) {
      const { model, ...counts } = usage;
      this.usage.record({ keyId, model, atMs: Date.now(), numRequests: 1, ...counts });
    }
  }

  private decided(decision: RateDecision): void {
    this.lastDecision = decision;
    this.onHeaders(this.headers);
  }

  /** OpenAI's 429: type `requests` or `tokens`, code rate_limit_exceeded. */
  private limited(decision: RateDecision, type: 'requests' | 'tokens', message: string): OpenAiError {
    const headers = { ...this.headers, 'Retry-After': String(retryAfterSeconds(decision, Date.now())) };
    return new OpenAiError(429, message, null, 'rate_limit_exceeded', { type, headers });
  }
}
