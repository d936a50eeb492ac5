// RedisStore: the Store shared by every coordinator replica (ioredis). Counting is atomic in
// Redis (Lua, redis-scripts.ts), multi-key writes use MULTI, every key is under `tpserve:` with
// a TTL on every counter (redis-keys.ts). While Redis is unreachable every call rejects at once
// with StoreUnavailableError (no offline queue: a request never hangs on a dead Redis), one log
// line says so, and ioredis reconnects with capped backoff; service resumes by itself.
// Tests: store.spec.ts against a real redis-server (test/helpers/redis-server.ts).
import { Redis, ReplyError } from 'ioredis';
import type { ApiKeyRecord } from './api-key-record';
import { RATE_WINDOW_MS, windowStart, type RateDecision, type RateLimitRequest, type TokenReservation } from './rate-window';
import { redisApiKeyFields, redisApiKeyRecord } from './redis-api-key-codec';
import { WINDOW_TTL_MS, parseUsageMember, redactRedisUrl, redisKeys, usageMember } from './redis-keys';
import { ADJUST_TOKENS_LUA, ADMIT_REQUEST_LUA, RESERVE_TOKENS_LUA, TOUCH_API_KEY_LUA } from './redis-scripts';
import { StoreUnavailableError, type Store } from './store';
import { USAGE_FIELDS, USAGE_TTL_MS, compareUsageRecords, hourStart, type UsageDelta, type UsageQuery, type UsageRecord } from './usage-record';

type ScriptReply = [number, number, number];

interface ScriptedRedis extends Redis {
  tpserveAdmit(key: string, rpm: number, tpm: number, ttlMs: number): Promise<ScriptReply>;
  tpserveReserve(key: string, tpm: number, numTokens: number, ttlMs: number): Promise<ScriptReply>;
  tpserveAdjust(key: string, delta: number): Promise<number>;
  tpserveTouch(key: string, atMs: number): Promise<number>;
}

export interface RedisStoreOptions {
  /** One line per state change (connected, unreachable). */
  log?: (line: string) => void;
  /** Per-command deadline: a stalled Redis fails the call instead of hanging it. */
  commandTimeoutMs?: number;
}

export class RedisStore implements Store {
  private readonly redis: ScriptedRedis;
  private isDown = false;
  private isClosed = false;

  constructor(url: string, options: RedisStoreOptions = {}) {
    const log = options.log ?? (() => undefined);
    const where = redactRedisUrl(url);
    this.redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 2000,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    }) as ScriptedRedis;
    this.redis.defineCommand('tpserveAdmit', { numberOfKeys: 1, lua: ADMIT_REQUEST_LUA });
    this.redis.defineCommand('tpserveReserve', { numberOfKeys: 1, lua: RESERVE_TOKENS_LUA });
    this.redis.defineCommand('tpserveAdjust', { numberOfKeys: 1, lua: ADJUST_TOKENS_LUA });
    this.redis.defineCommand('tpserveTouch', { numberOfKeys: 1, lua: TOUCH_API_KEY_LUA });
    // one line per state change, not one per reconnect attempt
    this.redis.on('ready', () => {
      this.isDown = false;
      log(`redis: connected to ${where}`);
    });
    const down = (why: string): void => {
      if (this.isDown || this.isClosed) return;
      this.isDown = true;
      log(`redis: ${where} is unreachable (${why}); requests that need it get 503 store_unavailable; reconnecting`);
    };
    this.redis.on('error', (err: Error) => down(err.message));
    this.redis.on('close', () => down('connection closed'));
  }

  /** Resolves once connected, or after `timeoutMs` (the store still reconnects by itself). */
  async waitUntilReady(timeoutMs: number): Promise<boolean> {
    if (this.redis.status === 'ready') return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.redis.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  createApiKey(record: ApiKeyRecord): Promise<void> {
    return this.call(async () => {
      await this.redis.multi()
        .hset(redisKeys.apiKey(record.id), redisApiKeyFields(record))
        .set(redisKeys.apiKeyByHash(record.hash), record.id)
        .sadd(redisKeys.apiKeyIds(), record.id)
        .exec();
    });
  }

  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return this.call(async () => {
      const id = await this.redis.get(redisKeys.apiKeyByHash(hash));
      return id === null ? undefined : redisApiKeyRecord(await this.redis.hgetall(redisKeys.apiKey(id)));
    });
  }

  listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.call(async () => {
      const ids = await this.redis.smembers(redisKeys.apiKeyIds());
      const records = await Promise.all(ids.map(async (id) => redisApiKeyRecord(await this.redis.hgetall(redisKeys.apiKey(id)))));
      return records.filter((r): r is ApiKeyRecord => r !== undefined).sort((a, b) => a.createdAtMs - b.createdAtMs);
    });
  }

  revokeApiKey(id: string): Promise<boolean> {
    return this.call(async () => {
      const hash = await this.redis.hget(redisKeys.apiKey(id), 'hash');
      if (hash === null) return false;
      await this.redis.multi().del(redisKeys.apiKey(id), redisKeys.apiKeyByHash(hash)).srem(redisKeys.apiKeyIds(), id).exec();
      return true;
    });
  }

  numApiKeys(): Promise<number> {
    return this.call(() => this.redis.scard(redisKeys.apiKeyIds()));
  }

  touchApiKey(id: string, atMs: number): Promise<void> {
    return this.call(async () => void (await this.redis.tpserveTouch(redisKeys.apiKey(id), atMs)));
  }

  admitRequest({ keyId, rpm, tpm, nowMs }: RateLimitRequest): Promise<RateDecision> {
    const start = windowStart(nowMs);
    return this.call(async () => decision(await this.redis.tpserveAdmit(redisKeys.rateWindow(keyId, start), rpm, tpm, WINDOW_TTL_MS), start));
  }

  reserveTokens({ keyId, tpm, numTokens, nowMs }: TokenReservation): Promise<RateDecision> {
    const start = windowStart(nowMs);
    return this.call(async () => decision(await this.redis.tpserveReserve(redisKeys.rateWindow(keyId, start), tpm, numTokens, WINDOW_TTL_MS), start));
  }

  adjustTokens(keyId: string, windowStartMs: number, delta: number): Promise<void> {
    return this.call(async () => void (await this.redis.tpserveAdjust(redisKeys.rateWindow(keyId, windowStartMs), delta)));
  }

  addUsage(delta: UsageDelta): Promise<void> {
    const hour = hourStart(delta.atMs);
    const member = usageMember(delta.keyId, delta.model, hour);
    const key = redisKeys.usage(member);
    return this.call(async () => {
      const tx = this.redis.multi();
      for (const field of USAGE_FIELDS) if (delta[field] !== 0) tx.hincrby(key, field, delta[field]);
      tx.pexpire(key, USAGE_TTL_MS)
        .zadd(redisKeys.usageIndex(), hour, member)
        .zremrangebyscore(redisKeys.usageIndex(), '-inf', delta.atMs - USAGE_TTL_MS)
        .pexpire(redisKeys.usageIndex(), USAGE_TTL_MS);
      await tx.exec();
    });
  }

  listUsage(query: UsageQuery): Promise<UsageRecord[]> {
    const since = query.sinceMs === undefined ? '-inf' : hourStart(query.sinceMs);
    return this.call(async () => {
      const members = await this.redis.zrangebyscore(redisKeys.usageIndex(), since, '+inf');
      const records: UsageRecord[] = [];
      for (const member of members) {
        const { keyId, model, hourStartMs } = parseUsageMember(member);
        if (query.keyId !== undefined && keyId !== query.keyId) continue;
        const fields = await this.redis.hgetall(redisKeys.usage(member));
        if (Object.keys(fields).length === 0) continue;  // expired
        const counts = Object.fromEntries(USAGE_FIELDS.map((f) => [f, Number(fields[f] ?? 0)])) as Record<(typeof USAGE_FIELDS)[number], number>;
        records.push({ keyId, model, hourStartMs, ...counts });
      }
      return records.sort(compareUsageRecords);
    });
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.redis.disconnect();
  }

  /** Runs one store operation; a connection failure becomes StoreUnavailableError. */
  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (err) {
      if (err instanceof ReplyError) throw err;  // Redis answered: a bug, not an outage
      throw new StoreUnavailableError(`the Redis store is unavailable: ${(err as Error).message}`);
    }
  }
}

function decision([allowed, numRequests, numTokens]: ScriptReply, start: number): RateDecision {
  return { isAllowed: allowed === 1, numRequests, numTokens, windowStartMs: start, resetAtMs: start + RATE_WINDOW_MS };
}
