// MemoryStore: the Store of a single replica (the embedded default, no --redis-url). The same
// rules as RedisStore (rate-window.ts decides), in plain maps; window counters are dropped when
// their window has passed. Tests: store.spec.ts (shared with RedisStore).
import type { ApiKeyRecord } from './api-key-record';
import { RATE_WINDOW_MS, decideAdmission, decideReservation, windowStart, type RateDecision, type RateLimitRequest, type TokenReservation } from './rate-window';
import type { Store } from './store';
import { USAGE_FIELDS, compareUsageRecords, emptyUsage, hourStart, type UsageDelta, type UsageQuery, type UsageRecord } from './usage-record';

interface WindowCounts {
  numRequests: number;
  numTokens: number;
}

export class MemoryStore implements Store {
  private readonly keys = new Map<string, ApiKeyRecord>();
  private readonly windows = new Map<string, WindowCounts>();
  private readonly usage = new Map<string, UsageRecord>();
  private sweptAt = -1;

  async createApiKey(record: ApiKeyRecord): Promise<void> {
    this.keys.set(record.id, { ...record });
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    for (const record of this.keys.values()) if (record.hash === hash) return { ...record };
    return undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return [...this.keys.values()].map((r) => ({ ...r })).sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  async revokeApiKey(id: string): Promise<boolean> {
    return this.keys.delete(id);
  }

  async numApiKeys(): Promise<number> {
    return this.keys.size;
  }

  async touchApiKey(id: string, atMs: number): Promise<void> {
    const record = this.keys.get(id);
    if (record) record.lastUsedAtMs = atMs;
  }

  async admitRequest({ keyId, rpm, tpm, nowMs }: RateLimitRequest): Promise<RateDecision> {
    const start = windowStart(nowMs);
    const counts = this.window(keyId, start, nowMs);
    const isAllowed = decideAdmission(counts.numRequests, counts.numTokens, rpm, tpm);
    if (isAllowed) counts.numRequests++;
    return { isAllowed, ...counts, windowStartMs: start, resetAtMs: start + RATE_WINDOW_MS };
  }

  async reserveTokens({ keyId, tpm, numTokens, nowMs }: TokenReservation): Promise<RateDecision> {
    const start = windowStart(nowMs);
    const counts = this.window(keyId, start, nowMs);
    const isAllowed = decideReservation(counts.numTokens, numTokens, tpm);
    if (isAllowed) counts.numTokens += numTokens;
    return { isAllowed, ...counts, windowStartMs: start, resetAtMs: start + RATE_WINDOW_MS };
  }

  async adjustTokens(keyId: string, windowStartMs: number, delta: number): Promise<void> {
    const counts = this.windows.get(`${keyId}|${windowStartMs}`);
    if (counts) counts.numTokens += delta;
  }

  async addUsage(delta: UsageDelta): Promise<void> {
    const hour = hourStart(delta.atMs);
    const id = `${delta.keyId}|${delta.model}|${hour}`;
    const record = this.usage.get(id) ?? { keyId: delta.keyId, model: delta.model, hourStartMs: hour, ...emptyUsage() };
    for (const field of USAGE_FIELDS) record[field] += delta[field];
    this.usage.set(id, record);
  }

  async listUsage(query: UsageQuery): Promise<UsageRecord[]> {
    const since = query.sinceMs === undefined ? -Infinity : hourStart(query.sinceMs);
    return [...this.usage.values()]
      .filter((r) => r.hourStartMs >= since && (query.keyId === undefined || r.keyId === query.keyId))
      .map((r) => ({ ...r }))
      .sort(compareUsageRecords);
  }

  async close(): Promise<void> {
    this.windows.clear();
  }

  private window(keyId: string, start: number, nowMs: number): WindowCounts {
    if (start !== this.sweptAt) {
      // once per window: windows older than the previous one can no longer be adjusted
      this.sweptAt = start;
      for (const id of this.windows.keys()) {
        if (Number(id.slice(id.lastIndexOf('|') + 1)) + 2 * RATE_WINDOW_MS <= nowMs) this.windows.delete(id);
      }
    }
    const id = `${keyId}|${start}`;
    let counts = this.windows.get(id);
    if (!counts) this.windows.set(id, (counts = { numRequests: 0, numTokens: 0 }));
    return counts;
  }
}
