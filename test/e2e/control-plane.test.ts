// End to end with a real redis-server: `tpserve keys create` → keys; `serve --redis-url` → 401
// without a key, 200 with it, 429 with Retry-After and x-ratelimit-* past --rpm / tpm; two
// coordinator processes on one Redis never admit more than the limit together; `tpserve usage`
// after normal and abandoned streams; /metrics has the vllm:* names; Redis killed and restarted
// under load: 503 store_unavailable, recovery by itself, no crash, no lost usage record.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../libs/tiny-model/src/make-tiny-model';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process';

const MODEL = 'tiny-control-plane';
let dir: string;
let redis: RedisServer;
let serverA: ServerProcess;
let serverB: ServerProcess;

interface CreatedKey {
  id: string;
  key: string;
}

async function createKey(name: string, limits: { rpm?: number; tpm?: number } = {}): Promise<CreatedKey> {
  const args = ['keys', 'create', '--name', name, '--redis-url', redis.url, '--json'];
  if (limits.rpm) args.push('--rpm', String(limits.rpm));
  if (limits.tpm) args.push('--tpm', String(limits.tpm));
  const res = await runCli(args);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as CreatedKey;
}

interface Reply {
  status: number;
  headers: Headers;
  json: any;
}

async function chat(server: ServerProcess, key: string | undefined, extra: Record<string, unknown> = {}): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${server.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], max_tokens: 3, temperature: 0, ...extra }),
  });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

async function usageOf(keyId: string): Promise<Array<Record<string, number | string>>> {
  const res = await runCli(['usage', '--key', keyId, '--json'], { timeoutMs: 30_000 });
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as Array<Record<string, number | string>>;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-e2e-cp-'));
  fs.mkdirSync(path.join(dir, 'redis'));
  redis = await startRedisServer({ dataDir: path.join(dir, 'redis') });
  makeTinyModel({ outDir: path.join(dir, MODEL) });
  process.env.TPSERVE_REDIS_URL = redis.url; // for runCli's `usage`
  const args = ['--threads', '1', '--max-model-len', '256', '--redis-url', redis.url];
  [serverA, serverB] = await Promise.all([startServer(path.join(dir, MODEL), args), startServer(path.join(dir, MODEL), args)]);
}, 180_000);

afterAll(async () => {
  await Promise.all([serverA?.stop(), serverB?.stop()]);
  await redis?.stop();
  delete process.env.TPSERVE_REDIS_URL;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('API keys', () => {
  it('is open while no key exists, then needs a valid key on /v1 (401 invalid_api_key)', async () => {
    expect((await chat(serverA, 'anything')).status).toBe(200);
    const { key } = await createKey('team-a');
    const missing = await chat(serverA, undefined);
    expect(missing.status).toBe(401);
    expect(missing.json.error).toMatchObject({ code: 'invalid_api_key', type: 'invalid_request_error' });
    expect((await chat(serverA, key + 'x')).status).toBe(401);
    expect((await fetch(`${serverA.baseUrl}/v1/models`)).status).toBe(401);
    const ok = await chat(serverA, key);
    expect(ok.status).toBe(200);
    expect(ok.json.choices[0].message).toBeDefined();
    // probes and metrics stay open
    expect((await fetch(`${serverA.baseUrl}/health`)).status).toBe(200);
    const metrics = await fetch(`${serverA.baseUrl}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(new RegExp(`^vllm:num_requests_waiting\\{model_name="${MODEL}"\\} \\d`, 'm'));
    expect(text).toMatch(new RegExp(`^vllm:kv_cache_usage_perc\\{model_name="${MODEL}"\\} [\\d.e-]+`, 'm'));
    expect(text).toMatch(/^vllm:request_success_total\{model_name="[^"]+",finished_reason="length"\} [1-9]/m);
  });

  it('lists keys without the key and revokes them', async () => {
    const { id, key } = await createKey('to-revoke');
    const list = await runCli(['keys', 'list', '--redis-url', redis.url]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(id);
    expect(list.stdout).not.toContain(key);
    expect((await runCli(['keys', 'revoke', id, '--redis-url', redis.url])).code).toBe(0);
    expect((await chat(serverA, key)).status).toBe(401);
    const again = await runCli(['keys', 'revoke', id, '--redis-url', redis.url]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(id);
  });
});

describe('rate limits', () => {
  it('answers past --rpm with 429, Retry-After and OpenAI headers', async () => {
    const { key } = await createKey('rpm-3', { rpm: 3 });
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await chat(serverA, key));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(replies.map((r) => r.headers.get('x-ratelimit-remaining-requests'))).toEqual(['2', '1', '0', '0']);
    expect(replies[0].headers.get('x-ratelimit-limit-requests')).toBe('3');
    const limited = replies[3];
    expect(limited.json.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'requests' });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('reserves prompt + max_tokens against tpm and corrects to the real count', async () => {
    const { key } = await createKey('tpm', { tpm: 150 });
    const tooBig = await chat(serverA, key, { max_tokens: 200 });
    expect(tooBig.status).toBe(429);
    expect(tooBig.json.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'tokens' });
    // max_tokens 60 reserves prompt + 60; what the request did not use is given back at its end
    const first = await chat(serverA, key, { max_tokens: 60 });
    expect(first.status).toBe(200);
    const used = first.json.usage.total_tokens as number;
    const limit = Number(first.headers.get('x-ratelimit-limit-tokens'));
    expect(limit).toBe(150);
    const second = await chat(serverA, key, { max_tokens: 3 });
    expect(second.status).toBe(200);
    // after the correction only the real tokens of the first request (and this reservation) count
    expect(Number(second.headers.get('x-ratelimit-remaining-tokens'))).toBe(150 - used - (second.json.usage.prompt_tokens + 3));
  });

  it('two coordinators on one Redis admit together no more than the limit', async () => {
    const { key } = await createKey('shared', { rpm: 5 });
    const replies = await Promise.all(Array.from({ length: 14 }, (_, i) => chat(i % 2 === 0 ? serverA : serverB, key, { max_tokens: 1 })));
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);
  });
});

describe('usage', () => {
  it('records normal requests and abandoned streams per key and model', async () => {
    const { id, key } = await createKey('usage');
    const done = await chat(serverB, key, { max_tokens: 4, ignore_eos: true });
    expect(done.status).toBe(200);
    // an abandoned stream: read a few chunks of a long one, then go away
    const controller = new AbortController();
    const res = await fetch(`${serverA.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], max_tokens: 200, ignore_eos: true, stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    let text = '';
    while ((text.match(/chat\.completion\.chunk/g) ?? []).length < 4) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const records = await until('both usage records', async () => {
      const rows = await usageOf(id);
      const requests = rows.reduce((s, r) => s + Number(r.requests), 0);
      return requests === 2 ? rows : undefined;
    });
    expect(records).toHaveLength(1); // same key, model and hour
    const row = records[0];
    expect(row.model).toBe(MODEL);
    expect(row.key_id).toBe(id);
    const completion = Number(row.completion_tokens);
    expect(completion).toBeGreaterThanOrEqual(4 + 2);  // the abandoned stream's tokens count too
    expect(completion).toBeLessThan(4 + 200);
    expect(Number(row.prompt_tokens)).toBe(2 * done.json.usage.prompt_tokens);
  });
});

describe('Redis outage under load', () => {
  it('answers 503 store_unavailable while Redis is down, recovers by itself, loses no usage record', async () => {
    const { id, key } = await createKey('outage');
    let numCompleted = 0;
    let numCompletionTokens = 0;
    const count = (r: Reply): Reply => {
      if (r.status === 200) {
        numCompleted++;
        numCompletionTokens += r.json.usage.completion_tokens as number;
      }
      return r;
    };
    for (let i = 0; i < 3; i++) count(await chat(serverA, key, { max_tokens: 2 }));
    // one request in flight when Redis dies: it finishes during the outage
    const inFlight = chat(serverA, key, { max_tokens: 120, ignore_eos: true }).then(count);
    await new Promise((r) => setTimeout(r, 30));
    await redis.kill();
    const during = await Promise.all([chat(serverA, key), chat(serverB, key)]);
    for (const r of during) {
      expect(r.status).toBe(503);
      expect(r.json.error.code).toBe('store_unavailable');
    }
    const flying = await inFlight;
    expect([200, 503]).toContain(flying.status);
    await redis.restart();
    await until('service after the restart', async () => ((await chat(serverB, key)).status === 200 ? true : undefined));
    numCompleted++;  // the probe that succeeded
    numCompletionTokens += 3;
    count(await chat(serverA, key, { max_tokens: 2 }));
    expect(serverA.child.exitCode).toBeNull();
    expect(serverB.child.exitCode).toBeNull();
    expect(serverA.stderr() + serverB.stderr()).toMatch(/redis: .* is unreachable/);
    const rows = await until('every completed request in usage', async () => {
      const r = await usageOf(id);
      return r.reduce((s, x) => s + Number(x.requests), 0) === numCompleted ? r : undefined;
    });
    expect(rows.reduce((s, x) => s + Number(x.completion_tokens), 0)).toBe(numCompletionTokens);
  });
});
