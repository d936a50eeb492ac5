// MemoryStore: the in-process Store (one replica, tests). Expired keys are dropped when read.
import type { Store } from './store';

interface Entry {
  value: string;
  expiresAt: number;
}

export class MemoryStore implements Store {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  async incrementCounter(key: string, delta: number, ttlMs: number): Promise<number> {
    const entry = this.live(key);
    const value = (entry ? Number(entry.value) : 0) + delta;
    this.entries.set(key, { value: String(value), expiresAt: entry?.expiresAt ?? this.now() + ttlMs });
    return value;
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.entries.set(key, { value, expiresAt: ttlMs === undefined ? Infinity : this.now() + ttlMs });
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
