// Store: the seam for the state every coordinator replica shares — API keys (only their sha256),
// per-key rate-limit windows and usage records. RedisStore (redis-store.ts) when --redis-url is
// given, MemoryStore (memory-store.ts) for one replica. Every operation that counts is atomic
// in the store itself (Lua in Redis), so replicas never race each other. Every method rejects
// with StoreUnavailableError when the store cannot be reached. Tests: store.spec.ts runs the same
// table against both implementations (Redis: a real redis-server).
import type { ApiKeyRecord } from './api-key-record';
import type { RateDecision, RateLimitRequest, TokenReservation } from './rate-window';
import type { UsageDelta, UsageQuery, UsageRecord } from './usage-record';

export interface Store {
  /** Adds a key (its id, name, limits and sha256). */
  createApiKey(record: ApiKeyRecord): Promise<void>;
  /** The key with this sha256 (hex), if it exists and was not revoked. */
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Removes the key; false when no key has this id. */
  revokeApiKey(id: string): Promise<boolean>;
  numApiKeys(): Promise<number>;
  /** Records when the key was last used (ms since the epoch). */
  touchApiKey(id: string, atMs: number): Promise<void>;

  /** Counts one request in the key's current window unless rpm or tpm is already spent. */
  admitRequest(request: RateLimitRequest): Promise<RateDecision>;
  /** Adds `numTokens` to the window's token count unless that would pass `tpm`. */
  reserveTokens(reservation: TokenReservation): Promise<RateDecision>;
  /** Adds `delta` (negative: a refund) to a window's token count, if that window still exists. */
  adjustTokens(keyId: string, windowStartMs: number, delta: number): Promise<void>;

  /** Adds one request's counts to its (key, model, hour) record. */
  addUsage(delta: UsageDelta): Promise<void>;
  /** Records matching the query, oldest hour first. */
  listUsage(query: UsageQuery): Promise<UsageRecord[]>;

  close(): Promise<void>;
}

/** The store could not be reached (Redis down): the API answers 503 store_unavailable. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}
