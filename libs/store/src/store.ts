// Store: the seam for shared per-replica state (API keys, rate-limit counters, usage records).
// The Redis implementation comes with the Redis issue; MemoryStore serves one replica and tests.

export interface Store {
  /** Adds `delta` to a counter that expires `ttlMs` after its first increment; returns the new value. */
  incrementCounter(key: string, delta: number, ttlMs: number): Promise<number>;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  close(): Promise<void>;
}
