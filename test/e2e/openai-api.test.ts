// End to end: the real server (`tpserve serve --tp 2`, two CPU worker processes, real gRPC) on a
// random tiny model, driven with the official openai client: chat and completions, streaming,
// n > 1, logprobs, stop strings, seeds, usage, concurrency, models / health / ready / metrics.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC } from '../../libs/metrics/src/metric-names';
import { makeTinyModel } from '../../libs/tiny-model/src/make-tiny-model';
import { parseMetrics, startServer, type ServerProcess } from '../helpers/server-process';

const MODEL = 'tiny-model';
const USER = [{ role: 'user' as const, content: 'Tell me about Paris.' }];
let dir: string;
let server: ServerProcess;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-e2e-api-'));
  makeTinyModel({ outDir: path.join(dir, MODEL) });
  server = await startServer(path.join(dir, MODEL), ['--tp', '2', '--threads', '1']);
});

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function greedyChat(maxTokens = 12, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await server.client.chat.completions.create({ model: MODEL, messages: USER, max_tokens: maxTokens, temperature: 0, ...extra });
  return res.choices[0].message.content ?? '';
}

async function streamChat(maxTokens: number, extra: Record<string, unknown> = {}): Promise<{ text: string; finish: string | null; chunks: number }> {
  const stream = await server.client.chat.completions.create({ model: MODEL, messages: USER, max_tokens: maxTokens, temperature: 0, stream: true, ...extra });
  let text = '';
  let finish: string | null = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  return { text, finish, chunks };
}

describe('chat completions', () => {
  it('answers with usage and finish_reason length at max_tokens', async () => {
    const res = await server.client.chat.completions.create({ model: MODEL, messages: USER, max_tokens: 8, temperature: 0 });
    expect(res.object).toBe('chat.completion');
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.choices).toHaveLength(1);
    expect(res.choices[0].finish_reason).toBe('length');
    expect(res.choices[0].message.role).toBe('assistant');
    expect(res.usage!.completion_tokens).toBe(8);
    expect(res.usage!.prompt_tokens).toBeGreaterThan(3);
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + 8);
  });

  it('streams the same text as the non-streaming answer (greedy), with usage last', async () => {
    const whole = await greedyChat(12);
    const stream = await server.client.chat.completions.create({
      model: MODEL, messages: USER, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(whole);
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish!.choices[0].finish_reason).toBe('length');
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage!.completion_tokens).toBe(12);
  });

  it('returns n choices; seeded sampling is reproducible and differs per choice', async () => {
    const ask = () => server.client.chat.completions.create({ model: MODEL, messages: USER, max_tokens: 10, temperature: 1, seed: 1234, n: 3 });
    const [a, b] = await Promise.all([ask(), ask()]);
    expect(a.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(a.choices.map((c) => c.message.content)).toEqual(b.choices.map((c) => c.message.content));
    expect(new Set(a.choices.map((c) => c.message.content)).size).toBeGreaterThan(1);
    expect(a.usage!.completion_tokens).toBe(30);
  });

  it('returns logprobs in the chat shape', async () => {
    const res = await server.client.chat.completions.create({ model: MODEL, messages: USER, max_tokens: 5, temperature: 0, logprobs: true, top_logprobs: 3 });
    const content = res.choices[0].logprobs!.content!;
    expect(content).toHaveLength(5);
    for (const entry of content) {
      expect(entry.logprob).toBeLessThanOrEqual(0);
      expect(entry.top_logprobs).toHaveLength(3);
      expect(Array.isArray(entry.bytes)).toBe(true);
      // greedy: the chosen token is the best one
      expect(entry.top_logprobs[0].logprob).toBeCloseTo(entry.logprob, 4);
    }
  });

  it('stops at a stop string, excluding it, with finish_reason stop (also streaming)', async () => {
    const whole = await greedyChat(16);
    const cut = Math.max(2, Math.floor(whole.length / 2));
    const stop = whole.slice(cut, cut + 2);
    const expected = whole.slice(0, whole.indexOf(stop));
    const res = await server.client.chat.completions.create({ model: MODEL, messages: USER, max_tokens: 16, temperature: 0, stop: [stop] });
    expect(res.choices[0].message.content ?? '').toBe(expected);
    expect(res.choices[0].finish_reason).toBe('stop');
    const streamed = await streamChat(16, { stop });
    expect(streamed.text).toBe(expected);
    expect(streamed.finish).toBe('stop');
  });

  it('16 concurrent streams finish with the text each gets alone', async () => {
    const prompts = Array.from({ length: 16 }, (_, i) => `Question number ${i}: what is ${i} + ${i}?`);
    const one = async (content: string, stream: boolean): Promise<string> => {
      const messages = [{ role: 'user' as const, content }];
      if (!stream) return (await server.client.chat.completions.create({ model: MODEL, messages, max_tokens: 10, temperature: 0 })).choices[0].message.content ?? '';
      let text = '';
      for await (const c of await server.client.chat.completions.create({ model: MODEL, messages, max_tokens: 10, temperature: 0, stream: true })) {
        text += c.choices[0]?.delta.content ?? '';
      }
      return text;
    };
    const alone: string[] = [];
    for (const p of prompts.slice(0, 4)) alone.push(await one(p, false));
    const together = await Promise.all(prompts.map((p) => one(p, true)));
    expect(together.slice(0, 4)).toEqual(alone);
  });
});

describe('completions', () => {
  it('completes text and token prompts with completions-shaped logprobs', async () => {
    const res = await server.client.completions.create({ model: MODEL, prompt: 'The capital of France is', max_tokens: 6, temperature: 0, logprobs: 2 });
    expect(res.object).toBe('text_completion');
    const lp = res.choices[0].logprobs!;
    expect(lp.tokens).toHaveLength(6);
    expect(lp.token_logprobs).toHaveLength(6);
    expect(lp.text_offset![0]).toBe(0);
    expect(Object.keys(lp.top_logprobs![0]).length).toBeGreaterThan(0);
    const tokens = await server.client.completions.create({ model: MODEL, prompt: [300, 301, 302], max_tokens: 4, temperature: 0 });
    expect(tokens.usage!.prompt_tokens).toBe(3);
    expect(tokens.usage!.completion_tokens).toBe(4);
  });

  it('streams text deltas that add up to the non-streaming text', async () => {
    const whole = await server.client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 10, temperature: 0 });
    let text = '';
    for await (const c of await server.client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 10, temperature: 0, stream: true })) {
      text += c.choices[0]?.text ?? '';
    }
    expect(text).toBe(whole.choices[0].text);
  });
});

describe('models, health, readiness, metrics', () => {
  it('lists the served model', async () => {
    const list = await server.client.models.list();
    expect(list.data.map((m) => m.id)).toEqual([MODEL]);
    const model = await server.client.models.retrieve(MODEL);
    expect(model.id).toBe(MODEL);
  });

  it('answers /health and /ready', async () => {
    expect((await fetch(`${server.baseUrl}/health`)).status).toBe(200);
    const ready = await fetch(`${server.baseUrl}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('exports Prometheus metrics', async () => {
    const res = await fetch(`${server.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    const metrics = parseMetrics(await res.text());
    expect(metrics.get('tpserve_requests_total{endpoint="chat_completions",status="200"}')).toBeGreaterThan(5);
    expect(metrics.get('tpserve_generation_tokens_total')).toBeGreaterThan(50);
    expect(metrics.get('tpserve_prompt_tokens_total')).toBeGreaterThan(10);
    expect(metrics.get('tpserve_worker_up{rank="0"}')).toBe(1);
    expect(metrics.get('tpserve_worker_up{rank="1"}')).toBe(1);
    expect(metrics.get('tpserve_num_requests_running')).toBe(0);
    expect(metrics.get('tpserve_time_to_first_token_seconds_count')).toBeGreaterThan(0);
    expect(metrics.has('tpserve_kv_cache_usage_ratio')).toBe(true);
  });

  it('frees a disconnected client\'s sequence, ending it early', async () => {
    const generated = async (): Promise<number> =>
      parseMetrics(await (await fetch(`${server.baseUrl}/metrics`)).text()).get(METRIC.generationTokensTotal) ?? 0;
    const before = await generated();
    const controller = new AbortController();
    // ignore_eos: only the disconnect can end it before 2000 tokens
    const stream = await server.client.chat.completions.create(
      { model: MODEL, messages: USER, max_tokens: 2000, temperature: 0, stream: true, stream_options: { include_usage: true }, ignore_eos: true } as never,
      { signal: controller.signal },
    );
    let n = 0;
    try {
      for await (const _ of stream) if (++n === 3) controller.abort();
    } catch {
      // the client library may throw on abort or just end the iteration
    }
    expect(n).toBe(3);
    for (let i = 0; i < 50; i++) {
      const metrics = parseMetrics(await (await fetch(`${server.baseUrl}/metrics`)).text());
      if (metrics.get('tpserve_num_requests_running') === 0 && metrics.get('tpserve_kv_cache_usage_ratio') === 0) {
        const numGenerated = (await generated()) - before;
        expect(numGenerated).toBeGreaterThanOrEqual(2);
        expect(numGenerated).toBeLessThan(2000); // stopped by the disconnect, not by max_tokens
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the aborted sequence still holds KV blocks');
  });
});
