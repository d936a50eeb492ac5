// End to end: bad requests get 4xx answers in OpenAI's error shape and leave the server healthy;
// a full waiting queue gives 429 with Retry-After; the per-request timeout gives 504; a tp the
// model cannot take makes `serve` exit non-zero with a clear message. One server (tp 2) with a
// tiny queue and a short timeout for the whole file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../libs/tiny-model/src/make-tiny-model';
import { postRaw, runCli, startServer, type ServerProcess } from '../helpers/server-process';

const MODEL = 'tiny-bad-input';
const MAX_MODEL_LEN = 256;
let dir: string;
let server: ServerProcess;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-e2e-bad-'));
  makeTinyModel({ outDir: path.join(dir, MODEL) });
  server = await startServer(path.join(dir, MODEL), [
    '--tp', '2', '--threads', '1', '--max-model-len', String(MAX_MODEL_LEN), '--max-num-seqs', '1', '--max-waiting', '1',
    '--request-timeout-ms', '1500', '--max-body-bytes', '65536',
  ]);
});

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const chat = (extra: Record<string, unknown>): Record<string, unknown> => ({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, ...extra });

function expectOpenAiError(json: unknown, param: string | null, code?: string): void {
  const error = (json as { error: Record<string, unknown> }).error;
  expect(error).toBeDefined();
  expect(typeof error.message).toBe('string');
  expect(typeof error.type).toBe('string');
  expect(error.param).toBe(param);
  if (code !== undefined) expect(error.code).toBe(code);
}

async function expectStillServing(): Promise<void> {
  const res = await server.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, temperature: 0 });
  expect(res.choices[0].finish_reason).toBe('length');
}

describe('bad input', () => {
  it('malformed JSON → 400 invalid_json', async () => {
    const res = await postRaw(server.baseUrl, '/v1/chat/completions', '{"model": "x", "messages": [');
    expect(res.status).toBe(400);
    expectOpenAiError(res.json, null, 'invalid_json');
  });

  it('an oversized body → 413', async () => {
    const big = JSON.stringify(chat({ messages: [{ role: 'user', content: 'x'.repeat(200_000) }] }));
    const res = await postRaw(server.baseUrl, '/v1/chat/completions', big);
    expect(res.status).toBe(413);
    expectOpenAiError(res.json, null, 'request_too_large');
  });

  it.each([
    ['unknown model', { model: 'gpt-17' }, 404, 'model', 'model_not_found'],
    ['missing messages', { messages: undefined }, 400, 'messages', 'missing_required_parameter'],
    ['empty messages', { messages: [] }, 400, 'messages', 'invalid_value'],
    ['a bad role', { messages: [{ role: 'wizard', content: 'x' }] }, 400, 'messages[0].role', 'invalid_value'],
    ['content of the wrong type', { messages: [{ role: 'user', content: 5 }] }, 400, 'messages[0].content', 'invalid_type'],
    ['temperature as a string', { temperature: 'hot' }, 400, 'temperature', 'invalid_type'],
    ['temperature above 2', { temperature: 7 }, 400, 'temperature', 'invalid_value'],
    ['negative max_tokens', { max_tokens: -5 }, 400, 'max_tokens', 'invalid_value'],
    ['fractional max_tokens', { max_tokens: 2.5 }, 400, 'max_tokens', 'invalid_type'],
    ['max_tokens beyond the context', { max_tokens: 100_000 }, 400, 'max_tokens', 'context_length_exceeded'],
    ['top_p 0', { top_p: 0 }, 400, 'top_p', 'invalid_value'],
    ['n = 1000', { n: 1000 }, 400, 'n', 'invalid_value'],
    ['top_logprobs without logprobs', { top_logprobs: 2 }, 400, 'top_logprobs', 'invalid_value'],
    ['top_logprobs 50', { logprobs: true, top_logprobs: 50 }, 400, 'top_logprobs', 'invalid_value'],
    ['a stop that is a number', { stop: 7 }, 400, 'stop', 'invalid_type'],
    ['a tool_choice naming no tool', { tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'g' } } }, 400, 'tool_choice', 'invalid_value'],
    ['unparseable tool-call arguments', { messages: [{ role: 'user', content: 'x' }, { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } }] }] }, 400, 'messages[1].tool_calls[0].function.arguments', 'invalid_value'],
    ['a negative thinking budget', { thinking_budget: -7 }, 400, 'thinking_budget', 'invalid_value'],
    ['stream_options without stream', { stream_options: { include_usage: true } }, 400, 'stream_options', 'invalid_value'],
  ])('%s', async (_name, extra, status, param, code) => {
    const res = await postRaw(server.baseUrl, '/v1/chat/completions', JSON.stringify(chat(extra)));
    expect(res.status).toBe(status);
    expectOpenAiError(res.json, param, code);
  });

  it('completions: a prompt of the wrong type, a token outside the vocabulary', async () => {
    const wrong = await postRaw(server.baseUrl, '/v1/completions', JSON.stringify({ model: MODEL, prompt: { text: 'x' } }));
    expect(wrong.status).toBe(400);
    expectOpenAiError(wrong.json, 'prompt', 'invalid_type');
    const token = await postRaw(server.baseUrl, '/v1/completions', JSON.stringify({ model: MODEL, prompt: [1, 99_999_999] }));
    expect(token.status).toBe(400);
    expectOpenAiError(token.json, 'prompt', 'invalid_value');
  });

  it('the openai client surfaces these as typed errors', async () => {
    await expect(server.client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(server.client.chat.completions.create({ model: MODEL, messages: [] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('unknown routes answer 404 in the same shape', async () => {
    const res = await fetch(`${server.baseUrl}/v1/engines`);
    expect(res.status).toBe(404);
    expectOpenAiError(await res.json(), null, 'not_found');
  });

  it('the server still answers afterwards', async () => {
    await expectStillServing();
    expect((await fetch(`${server.baseUrl}/ready`)).status).toBe(200);
  });
});

describe('overload and timeouts', () => {
  it('a full waiting queue → 429 with Retry-After; the per-request timeout → 504', async () => {
    const long = JSON.stringify(chat({ max_tokens: 240, ignore_eos: true, temperature: 0 }));
    // max-num-seqs 1 and max-waiting 1: of three requests at once, one runs, one waits, one is refused
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const pending = [postRaw(server.baseUrl, '/v1/chat/completions', long)];
    await sleep(50);
    pending.push(postRaw(server.baseUrl, '/v1/chat/completions', long));
    await sleep(50);
    pending.push(postRaw(server.baseUrl, '/v1/chat/completions', long));
    const results = await Promise.all(pending);
    const refused = results.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused[0].headers.get('retry-after')).toBe('1');
    expectOpenAiError(refused[0].json, null, 'queue_full');
    // the others finish, or hit the 1.5 s request timeout (504)
    for (const res of results.filter((r) => r.status !== 429)) {
      expect([200, 504]).toContain(res.status);
      if (res.status === 504) expectOpenAiError(res.json, null, 'timeout');
    }
    await expectStillServing();
  });
});

describe('serve with an impossible tp', () => {
  it('exits non-zero and says why', async () => {
    const res = await runCli(['serve', '--model', path.join(dir, MODEL), '--tp', '3', '--port', '0']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/--tp 3 cannot split this model: 4 attention heads and 2 key\/value heads/);
  });
});
