// End to end on a scripted checkpoint (exact replies), through `tpserve serve --tp 2` with real
// worker processes: vLLM's /tokenize and /detokenize, include_stop_str_in_output,
// parallel_tool_calls false (one of the script's two calls), stream_options.continuous_usage_stats
// and `priority` (one running slot: the lower number runs first).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC } from '../../libs/metrics/src/metric-names';
import { CHAT_ANSWER, CHAT_TRIGGER_TEXT, COMPLETIONS_TRIGGER_TEXT } from '../../libs/tiny-model/src/scripted-default-scripts';
import { makeScriptedModel } from '../../libs/tiny-model/src/scripted-model';
import { Tokenizer } from '../../libs/tokenizer/src/tokenizer';
import { parseMetrics, postRaw, runCli, startServer, type ServerProcess } from '../helpers/server-process';

const MODEL = 'scripted-surface';
// two calls in one block: a scripted reply may hold each control token once
const call = (city: string): string => `<function=get_weather>\n<parameter=location>\n${city}\n</parameter>\n</function>\n`;
const TWO_CALLS = `<seed:think>Two cities, two calls.</seed:think><seed:tool_call>\n${call('Oslo')}${call('Rome')}</seed:tool_call>`;
const TOOLS = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } } }];
const MESSAGES = [{ role: 'user' as const, content: 'Weather in Oslo and Rome?' }];
let dir: string;
let modelDir: string;
let server: ServerProcess;
let tokenizer: Tokenizer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-e2e-surface-'));
  modelDir = path.join(dir, MODEL);
  makeScriptedModel({
    outDir: modelDir,
    scripts: [
      { name: 'chat-two-calls', trigger: { afterText: CHAT_TRIGGER_TEXT }, reply: TWO_CALLS },
      { name: 'answer', trigger: { afterText: COMPLETIONS_TRIGGER_TEXT }, reply: CHAT_ANSWER },
    ],
  });
  tokenizer = Tokenizer.fromModelDir(modelDir);
  server = await startServer(modelDir, ['--tp', '2', '--threads', '1', '--max-num-seqs', '1']);
});

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const complete = (extra: Record<string, unknown>) =>
  server.client.completions.create({ model: MODEL, prompt: COMPLETIONS_TRIGGER_TEXT, max_tokens: 60, temperature: 0, ...extra } as never) as unknown as Promise<{
    choices: Array<{ text: string; finish_reason: string }>;
    usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  }>;

describe('/tokenize and /detokenize', () => {
  it('tokenizes a prompt with the model tokenizer, returns token strings, and detokenizes back', async () => {
    const text = 'The capital of France is Paris.';
    const res = await postRaw(server.baseUrl, '/tokenize', JSON.stringify({ model: MODEL, prompt: text, return_token_strs: true }));
    expect(res.status).toBe(200);
    const expected = tokenizer.encode(text, { addSpecialTokens: true });
    const card = (await (await fetch(`${server.baseUrl}/v1/models/${MODEL}`)).json()) as { max_model_len: number };
    expect(res.json).toEqual({ count: expected.length, max_model_len: card.max_model_len, tokens: expected, token_strs: tokenizer.idsToTokens(expected) });
    const back = await postRaw(server.baseUrl, '/detokenize', JSON.stringify({ model: MODEL, tokens: expected }));
    expect(back).toMatchObject({ status: 200, json: { prompt: text } });
  });

  it('tokenizes chat messages as the chat template renders them (the prompt tokens of a chat request)', async () => {
    const input = path.join(dir, 'chat.json');
    fs.writeFileSync(input, JSON.stringify({ messages: MESSAGES }));
    const rendered = (await runCli(['chat-template', '--model', modelDir, '--input', input])).stdout;
    const res = await postRaw(server.baseUrl, '/tokenize', JSON.stringify({ messages: MESSAGES }));
    const body = res.json as { count: number; tokens: number[]; token_strs: null };
    expect(body.tokens).toEqual(tokenizer.encode(rendered));
    expect(body.token_strs).toBeNull();
    const chat = await server.client.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 5, temperature: 0 });
    expect(chat.usage!.prompt_tokens).toBe(body.count);
  });

  it.each([
    ['/tokenize', { prompt: 5 }, 'prompt'],
    ['/tokenize', { prompt: 'x', model: 'other' }, 'model'],
    ['/detokenize', { tokens: [1, 1e9] }, 'tokens'],
  ])('%s %j → OpenAI error', async (route, body, param) => {
    const res = await postRaw(server.baseUrl, route, JSON.stringify(body));
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect((res.json as { error: { param: string } }).error.param).toBe(param);
  });
});

describe('include_stop_str_in_output', () => {
  it('keeps the matched stop string in the text; without it the text ends before', async () => {
    const stop = 'Paris';
    const cut = CHAT_ANSWER.slice(0, CHAT_ANSWER.indexOf(stop));
    expect((await complete({ stop: [stop] })).choices[0]).toMatchObject({ text: cut, finish_reason: 'stop' });
    expect((await complete({ stop: [stop], include_stop_str_in_output: true })).choices[0]).toMatchObject({ text: cut + stop, finish_reason: 'stop' });
  });
});

describe('parallel_tool_calls', () => {
  it('returns both calls by default and only the first with parallel_tool_calls false (stream and not)', async () => {
    const ask = (extra: Record<string, unknown>) => server.client.chat.completions.create({ model: MODEL, messages: MESSAGES, tools: TOOLS, max_tokens: 200, temperature: 0, ...extra });
    const both = await ask({});
    expect(both.choices[0].message.tool_calls!.map((c) => JSON.parse((c as { function: { arguments: string } }).function.arguments))).toEqual([{ location: 'Oslo' }, { location: 'Rome' }]);
    const one = await ask({ parallel_tool_calls: false });
    expect(one.choices[0].finish_reason).toBe('tool_calls');
    expect(one.choices[0].message.tool_calls!.map((c) => JSON.parse((c as { function: { arguments: string } }).function.arguments))).toEqual([{ location: 'Oslo' }]);
    const stream = await server.client.chat.completions.create({ model: MODEL, messages: MESSAGES, tools: TOOLS, max_tokens: 200, temperature: 0, stream: true, parallel_tool_calls: false });
    const indexes = new Set<number>();
    let args = '';
    for await (const chunk of stream) {
      for (const d of chunk.choices[0]?.delta.tool_calls ?? []) {
        indexes.add(d.index);
        args += d.function?.arguments ?? '';
      }
    }
    expect([...indexes]).toEqual([0]);
    expect(JSON.parse(args)).toEqual({ location: 'Oslo' });
  });
});

describe('stream_options.continuous_usage_stats', () => {
  it('puts the usage so far on every chunk; the last usage is the final count', async () => {
    const whole = await complete({});
    const stream = await server.client.completions.create({
      model: MODEL, prompt: COMPLETIONS_TRIGGER_TEXT, max_tokens: 60, temperature: 0, stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: true },
    } as never) as unknown as AsyncIterable<{ choices: Array<{ text: string }>; usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null }>;
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.every((c) => c.usage !== null)).toBe(true);
    const counts = chunks.map((c) => c.usage!.completion_tokens);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts[0]).toBeGreaterThanOrEqual(1);
    expect(chunks.every((c) => c.usage!.prompt_tokens === whole.usage.prompt_tokens && c.usage!.total_tokens === c.usage!.prompt_tokens + c.usage!.completion_tokens)).toBe(true);
    expect(chunks.at(-1)!.usage).toEqual(whole.usage);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe(whole.choices[0].text);
  });
});

describe('priority', () => {
  it('with one running slot, a later request of lower priority number runs before an earlier one', async () => {
    const metric = async (name: string): Promise<number> => parseMetrics(await (await fetch(`${server.baseUrl}/metrics`)).text()).get(name) ?? 0;
    const waitFor = async (what: () => Promise<boolean>, label: string): Promise<void> => {
      for (let i = 0; i < 300; i++) {
        if (await what()) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${label}`);
    };
    // A holds the only slot until the client leaves
    const controller = new AbortController();
    const blocker = await server.client.completions.create(
      { model: MODEL, prompt: 'Hold the slot.', max_tokens: 3000, temperature: 0, stream: true, ignore_eos: true } as never,
      { signal: controller.signal },
    ) as unknown as AsyncIterable<unknown>;
    const iterator = blocker[Symbol.asyncIterator]();
    await iterator.next();
    const finished: string[] = [];
    const late = complete({ priority: 5 }).then(() => finished.push('priority 5'));
    await waitFor(async () => (await metric(METRIC.numRequestsWaiting)) >= 1, 'the first queued request');
    const early = complete({ priority: -5 }).then(() => finished.push('priority -5'));
    await waitFor(async () => (await metric(METRIC.numRequestsWaiting)) >= 2, 'both queued requests');
    controller.abort();
    await iterator.return?.().catch(() => undefined);
    await Promise.all([late, early]);
    expect(finished).toEqual(['priority -5', 'priority 5']);
  });
});
