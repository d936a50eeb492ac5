// End to end on a scripted checkpoint (greedy decoding says known replies, through the real
// engine, workers, detokenizer, parsers and SSE): the <seed:think> split into reasoning_content,
// streaming and not; the thinking budget enforced by the server (the model's own "exhausted"
// words, then the answer); a forced named tool_choice; usage counting the forced tokens.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScriptedModel } from '../../libs/tiny-model/src/scripted-model';
import { CHAT_ANSWER, CHAT_REASONING, DEFAULT_SCRIPTS } from '../../libs/tiny-model/src/scripted-default-scripts';
import { BUDGET_EXHAUSTED_TEXT } from '../../apps/coordinator/src/generation/thinking-budget';
import { startServer, type ServerProcess } from '../helpers/server-process';

const MODEL = 'scripted-reasoning';
const MESSAGES = [{ role: 'user' as const, content: 'What is the capital of France?' }];
const WEATHER_TOOL = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather forecast', parameters: { type: 'object', properties: { location: { type: 'string' }, days: { type: 'integer' } }, required: ['location'] } },
};
const EXHAUSTED = `${BUDGET_EXHAUSTED_TEXT}</seed:cot_budget_reflect>`;
let dir: string;
let server: ServerProcess;
let chatTokens: number;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-e2e-reasoning-'));
  const made = makeScriptedModel({ outDir: path.join(dir, MODEL), scripts: DEFAULT_SCRIPTS });
  chatTokens = made.scripts.find((s) => s.name === 'chat')!.tokenIds.length;
  server = await startServer(path.join(dir, MODEL), ['--tp', '2', '--threads', '1']);
});

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

type Extra = Record<string, unknown>;

async function ask(extra: Extra = {}) {
  return server.client.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 200, temperature: 0, ...extra } as never) as unknown as Promise<{
    choices: Array<{ message: { content: string | null; reasoning_content?: string | null; tool_calls?: Array<{ function: { name: string; arguments: string } }> }; finish_reason: string }>;
    usage: { completion_tokens: number; prompt_tokens: number };
  }>;
}

async function askStream(extra: Extra = {}): Promise<{ reasoning: string; content: string; finish: string | null; chunks: number; calls: Array<{ id: string; name: string; arguments: string }> }> {
  const stream = await server.client.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 200, temperature: 0, stream: true, ...extra } as never);
  let reasoning = '';
  let content = '';
  let finish: string | null = null;
  let chunks = 0;
  const calls: Array<{ id: string; name: string; arguments: string }> = [];
  for await (const chunk of stream as AsyncIterable<{ choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null }> }>) {
    chunks++;
    const choice = chunk.choices[0];
    if (!choice) continue;
    reasoning += (choice.delta.reasoning_content as string | undefined) ?? '';
    content += (choice.delta.content as string | undefined) ?? '';
    for (const d of (choice.delta.tool_calls as Array<{ index: number; id?: string; function: { name?: string; arguments?: string } }> | undefined) ?? []) {
      const call = (calls[d.index] ??= { id: '', name: '', arguments: '' });
      call.id ||= d.id ?? '';
      call.name += d.function.name ?? '';
      call.arguments += d.function.arguments ?? '';
    }
    finish = choice.finish_reason ?? finish;
  }
  return { reasoning, content, finish, chunks, calls };
}

describe('reasoning split', () => {
  it('puts the think block in reasoning_content and the answer in content', async () => {
    const res = await ask();
    expect(res.choices[0].message.reasoning_content).toBe(CHAT_REASONING);
    expect(res.choices[0].message.content).toBe(CHAT_ANSWER);
    expect(res.choices[0].finish_reason).toBe('stop');
    expect(res.usage.completion_tokens).toBe(chatTokens);
  });

  it('streams reasoning_content deltas, then content deltas', async () => {
    const res = await askStream();
    expect(res.reasoning).toBe(CHAT_REASONING);
    expect(res.content).toBe(CHAT_ANSWER);
    expect(res.finish).toBe('stop');
    expect(res.chunks).toBeGreaterThan(10);
  });

  it('does not split a stop string out of the reasoning: stop ends the whole reply', async () => {
    const res = await ask({ stop: ['Paris'] });
    expect(res.choices[0].message.reasoning_content).toBe('Got it, the user wants the capital of France. That is ');
    expect(res.choices[0].message.content).toBeNull();
    expect(res.choices[0].finish_reason).toBe('stop');
  });
});

describe('thinking budget', () => {
  it('closes the think block after the budget with the model\'s own words; the answer follows', async () => {
    const res = await ask({ thinking_budget: 4 });
    const reasoning = res.choices[0].message.reasoning_content!;
    expect(reasoning.endsWith(`<seed:cot_budget_reflect>${EXHAUSTED}`)).toBe(true);
    expect(CHAT_REASONING.startsWith(reasoning.slice(0, reasoning.indexOf('<seed:cot_budget_reflect>')))).toBe(true);
    expect(res.choices[0].message.content).toBe(CHAT_ANSWER);
    // the same through chat_template_kwargs and streaming
    const streamed = await askStream({ chat_template_kwargs: { thinking_budget: 4 } });
    expect(streamed.reasoning).toBe(reasoning);
    expect(streamed.content).toBe(CHAT_ANSWER);
  });

  it('budget 0: the prompt opens the block, the server closes it at once (no duplicate reflect tag)', async () => {
    const res = await ask({ thinking_budget: 0 });
    expect(res.choices[0].message.reasoning_content).toBe(EXHAUSTED);
    expect(res.choices[0].message.content).toBe(CHAT_ANSWER);
    const streamed = await askStream({ thinking_budget: 0 });
    expect(streamed.reasoning).toBe(EXHAUSTED);
    expect(streamed.content).toBe(CHAT_ANSWER);
  });

  it('counts forced tokens as completion tokens and respects max_tokens', async () => {
    const unlimited = await ask({ thinking_budget: -1 });
    expect(unlimited.choices[0].message.reasoning_content).toBe(CHAT_REASONING);
    const short = await ask({ thinking_budget: 0, max_tokens: 5 });
    expect(short.choices[0].finish_reason).toBe('length');
    expect(short.usage.completion_tokens).toBe(5);
  });
});

describe('forced tool_choice', () => {
  it('a named function: the server opens the call; arguments are typed by the schema', async () => {
    const res = await ask({ tools: [WEATHER_TOOL], tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    const calls = res.choices[0].message.tool_calls!;
    expect(calls).toHaveLength(1);
    expect(calls[0].function.name).toBe('get_weather');
    expect(JSON.parse(calls[0].function.arguments)).toEqual({ location: 'Barcelona, Spain', days: 3 });
    expect(res.choices[0].message.content).toBeNull();
    const streamed = await askStream({ tools: [WEATHER_TOOL], tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    expect(streamed.calls).toHaveLength(1);
    expect(streamed.calls[0].id).toMatch(/^call_/);
    expect(streamed.calls[0].name).toBe('get_weather');
    expect(JSON.parse(streamed.calls[0].arguments)).toEqual({ location: 'Barcelona, Spain', days: 3 });
  });

  it('tool_choice none: no tools in the prompt and nothing parsed', async () => {
    const res = await ask({ tools: [WEATHER_TOOL], tool_choice: 'none' });
    expect(res.choices[0].message.tool_calls).toBeUndefined();
    expect(res.choices[0].message.content).toBe(CHAT_ANSWER);
  });
});
