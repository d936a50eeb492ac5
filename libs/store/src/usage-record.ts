// Usage per (key, model, hour): what a platform team bills by. Requests that started generating
// count, including streams the client abandoned (with the tokens produced until then).
export interface UsageCounts {
  numRequests: number;
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  cachedPromptTokens: number;
}

export interface UsageDelta extends UsageCounts {
  /** The API key's id, or ANONYMOUS_KEY_ID when no keys are configured. */
  keyId: string;
  model: string;
  /** When the request ended (ms since the epoch); selects the hour. */
  atMs: number;
}

export interface UsageRecord extends UsageCounts {
  keyId: string;
  model: string;
  /** The hour's start, ms since the epoch (UTC). */
  hourStartMs: number;
}

export interface UsageQuery {
  keyId?: string;
  /** Hours starting before the hour of `sinceMs` are left out. */
  sinceMs?: number;
}

export const ANONYMOUS_KEY_ID = 'anonymous';
export const HOUR_MS = 3_600_000;
/** Usage records are kept this long (billing data outlives the counters). */
export const USAGE_TTL_MS = 400 * 24 * HOUR_MS;

export const USAGE_FIELDS = ['numRequests', 'promptTokens', 'completionTokens', 'reasoningTokens', 'cachedPromptTokens'] as const satisfies ReadonlyArray<keyof UsageCounts>;

export function hourStart(atMs: number): number {
  return atMs - (atMs % HOUR_MS);
}

export function emptyUsage(): UsageCounts {
  return { numRequests: 0, promptTokens: 0, completionTokens: 0, reasoningTokens: 0, cachedPromptTokens: 0 };
}

/** Oldest hour first, then key, then model (both stores list in this order). */
export function compareUsageRecords(a: UsageRecord, b: UsageRecord): number {
  return a.hourStartMs - b.hourStartMs || a.keyId.localeCompare(b.keyId) || a.model.localeCompare(b.model);
}
