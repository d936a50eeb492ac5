// The Store contract, run against MemoryStore and against RedisStore on a real redis-server:
// API keys, rate windows (limits, reservations, corrections, window roll-over), usage records.
// Redis only: atomicity across two clients, TTLs and the namespace, and an outage.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../../test/helpers/redis-server';
import { hashApiKey, newApiKey } from './api-key-record';
import { MemoryStore } from './memory-store';
import { RATE_WINDOW_MS } from './rate-window';
import { RedisStore } from './redis-store';
import { StoreUnavailableError, type Store } from './store';
import { HOUR_MS } from './usage-record';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
}, 30_000);
afterAll(async () => {
  await redis?.stop();
});

const T0 = 1_800_000_000_000 - (1_800_000_000_000 % HOUR_MS); // an hour (and minute) boundary
let prefix = 0;
const uniqueKeyId = (): string => `k${Date.now()}_${prefix++}`;

async function connectedRedisStore(): Promise<RedisStore> {
  const store = new RedisStore(redis.url);
  expect(await store.waitUntilReady(5000)).toBe(true);
  return store;
}

const stores: Array<[string, () => Promise<Store>]> = [
  ['MemoryStore', async () => new MemoryStore()],
  ['RedisStore', connectedRedisStore],
];

describe.each(stores)('%s', (_name, makeStore) => {
  it('creates, finds by hash, lists, touches and revokes API keys', async () => {
    const store = await makeStore();
    if (store instanceof RedisStore) {
      const raw = new Redis(redis.url);
      await raw.flushall();
      raw.disconnect();
    }
    const a = newApiKey('team-a', { rpm: 5, tpm: 0 }, T0);
    const b = newApiKey('team-b', { rpm: 0, tpm: 100 }, T0 + 1);
    await store.createApiKey(a.record);
    await store.createApiKey(b.record);
    expect(await store.numApiKeys()).toBe(2);
    expect((await store.findApiKeyByHash(hashApiKey(a.key)))?.id).toBe(a.record.id);
    expect(await store.findApiKeyByHash(hashApiKey(a.key + 'x'))).toBeUndefined();
    await store.touchApiKey(b.record.id, T0 + 5000);
    const listed = await store.listApiKeys();
    expect(listed.map((k) => [k.name, k.rpm, k.tpm, k.lastUsedAtMs])).toEqual([['team-a', 5, 0, undefined], ['team-b', 0, 100, T0 + 5000]]);
    expect(await store.revokeApiKey(a.record.id)).toBe(true);
    expect(await store.revokeApiKey(a.record.id)).toBe(false);
    expect(await store.findApiKeyByHash(a.record.hash)).toBeUndefined();
    await store.touchApiKey(a.record.id, T0);  // a revoked key is not recreated
    expect((await store.listApiKeys()).map((k) => k.id)).toEqual([b.record.id]);
    await store.close();
  });

  it('admits rpm requests per window, then refuses until the next window', async () => {
    const store = await makeStore();
    const keyId = uniqueKeyId();
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await store.admitRequest({ keyId, rpm: 3, tpm: 0, nowMs: T0 + 1000 + i }));
    expect(decisions.map((d) => [d.isAllowed, d.numRequests])).toEqual([[true, 1], [true, 2], [true, 3], [false, 3]]);
    expect(decisions[3].resetAtMs).toBe(T0 + RATE_WINDOW_MS);
    const next = await store.admitRequest({ keyId, rpm: 3, tpm: 0, nowMs: T0 + RATE_WINDOW_MS });
    expect([next.isAllowed, next.numRequests, next.windowStartMs]).toEqual([true, 1, T0 + RATE_WINDOW_MS]);
    await store.close();
  });

  it('reserves tokens up to tpm, refuses admission once spent, and applies corrections', async () => {
    const store = await makeStore();
    const keyId = uniqueKeyId();
    const at = T0 + 2000;
    expect((await store.reserveTokens({ keyId, tpm: 100, numTokens: 60, nowMs: at })).isAllowed).toBe(true);
    expect((await store.reserveTokens({ keyId, tpm: 100, numTokens: 50, nowMs: at })).isAllowed).toBe(false);
    const full = await store.reserveTokens({ keyId, tpm: 100, numTokens: 40, nowMs: at });
    expect([full.isAllowed, full.numTokens]).toEqual([true, 100]);
    expect((await store.admitRequest({ keyId, rpm: 0, tpm: 100, nowMs: at })).isAllowed).toBe(false);
    await store.adjustTokens(keyId, full.windowStartMs, -30);  // the request used 30 fewer tokens
    const after = await store.admitRequest({ keyId, rpm: 0, tpm: 100, nowMs: at });
    expect([after.isAllowed, after.numTokens]).toEqual([true, 70]);
    await store.close();
  });

  it('sums usage per key, model and hour, filtered by key and since', async () => {
    const store = await makeStore();
    const keyId = uniqueKeyId();
    const counts = { numRequests: 1, promptTokens: 10, completionTokens: 5, reasoningTokens: 2, cachedPromptTokens: 4 };
    await store.addUsage({ keyId, model: 'org/m:1', atMs: T0 + 10, ...counts });
    await store.addUsage({ keyId, model: 'org/m:1', atMs: T0 + HOUR_MS - 1, ...counts, completionTokens: 7 });
    await store.addUsage({ keyId, model: 'org/m:1', atMs: T0 + HOUR_MS, ...counts });
    await store.addUsage({ keyId: keyId + 'other', model: 'org/m:1', atMs: T0, ...counts });
    const mine = await store.listUsage({ keyId });
    expect(mine).toEqual([
      { keyId, model: 'org/m:1', hourStartMs: T0, numRequests: 2, promptTokens: 20, completionTokens: 12, reasoningTokens: 4, cachedPromptTokens: 8 },
      { keyId, model: 'org/m:1', hourStartMs: T0 + HOUR_MS, ...counts },
    ]);
    expect((await store.listUsage({ keyId, sinceMs: T0 + HOUR_MS + 5 })).map((r) => r.hourStartMs)).toEqual([T0 + HOUR_MS]);
    await store.close();
  });
});

describe('RedisStore on a real redis-server', () => {
  it('never admits more than rpm, however many clients race', async () => {
    const stores = await Promise.all([connectedRedisStore(), connectedRedisStore()]);
    const keyId = uniqueKeyId();
    const nowMs = Date.now();
    const decisions = await Promise.all(Array.from({ length: 60 }, (_, i) => stores[i % 2].admitRequest({ keyId, rpm: 17, tpm: 0, nowMs })));
    expect(decisions.filter((d) => d.isAllowed)).toHaveLength(17);
    const reservations = await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % 2].reserveTokens({ keyId, tpm: 1000, numTokens: 70, nowMs })));
    expect(reservations.filter((d) => d.isAllowed)).toHaveLength(Math.floor(1000 / 70));
    await Promise.all(stores.map((s) => s.close()));
  });

  it('keeps every key under tpserve: and puts a TTL on every counter and usage record', async () => {
    const store = await connectedRedisStore();
    const raw = new Redis(redis.url);
    await raw.flushall();
    await store.createApiKey(newApiKey('k', { rpm: 1, tpm: 1 }).record);
    await store.admitRequest({ keyId: 'ttl', rpm: 5, tpm: 5, nowMs: Date.now() });
    await store.addUsage({ keyId: 'ttl', model: 'm', atMs: Date.now(), numRequests: 1, promptTokens: 1, completionTokens: 1, reasoningTokens: 0, cachedPromptTokens: 0 });
    const keys = await raw.keys('*');
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key.startsWith('tpserve:')).toBe(true);
      const isApiKey = key.startsWith('tpserve:apikey');
      const ttl = await raw.pttl(key);
      if (isApiKey) expect(ttl).toBe(-1);
      else expect(ttl).toBeGreaterThan(0);
    }
    raw.disconnect();
    await store.close();
  });

  it('fails fast with StoreUnavailableError while Redis is down and recovers by itself', async () => {
    const logs: string[] = [];
    const store = new RedisStore(redis.url, { log: (l) => logs.push(l) });
    await store.waitUntilReady(5000);
    await redis.kill();
    const started = Date.now();
    await expect(store.numApiKeys()).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(5000);
    await redis.restart();
    const deadline = Date.now() + 15_000;
    let n: number | undefined;
    while (n === undefined && Date.now() < deadline) {
      n = await store.numApiKeys().catch(() => undefined);
      if (n === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(n).toBe(0);
    expect(logs.some((l) => /unreachable/.test(l))).toBe(true);
    await store.close();
  }, 30_000);
});
