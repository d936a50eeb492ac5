// The per-choice generation pipeline with a real tokenizer (a tiny model made in a temp dir):
// token ids → detokenizer → stop strings → reasoning / tool parsers → deltas, streaming and not.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../../../libs/tiny-model/src/make-tiny-model';
import { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';
import type { ChatCompletionTool } from '../../../../libs/openai-protocol/src/tool-call.types';
import { ChatChoice, type ChatChoiceOptions, type ChatChunkPart } from './chat-choice';
import { CompletionChoice } from './completion-choice';
import { TextPipeline } from './text-pipeline';
import { TokenText } from './token-text';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'generation-pipeline-'));
makeTinyModel({ outDir: dir, numLayers: 1, hiddenSize: 16, headDim: 8, intermediateSize: 16 });
const tokenizer = Tokenizer.fromModelDir(dir);
const tokenText = new TokenText(tokenizer);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const TOOLS: ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } } } }];
const token = (id: number) => ({ token: id, logprob: -0.5, topLogprobs: [[id, -0.5], [id + 1, -2]] as Array<[number, number]>, isForced: false });

function chat(text: string, options: Partial<ChatChoiceOptions> = {}): { parts: ChatChunkPart[]; choice: ChatChoice } {
  const choice = new ChatChoice(tokenizer, tokenText, {
    promptTokens: [], stop: [], includeStopStrInOutput: false, isStream: true, numTopLogprobs: -1, tools: null, parseToolCalls: false,
    parallelToolCalls: true, startsInReasoning: false, textPrefix: '', ...options,
  });
  const parts: ChatChunkPart[] = [];
  for (const id of tokenizer.encode(text)) {
    parts.push(...choice.push(token(id)));
    if (choice.isStopped) break;
  }
  parts.push(...choice.flush());
  return { parts, choice };
}

function joined(parts: ChatChunkPart[], field: 'content' | 'reasoning_content'): string {
  return parts.map((p) => p.delta[field] ?? '').join('');
}

describe('TextPipeline', () => {
  it('detokenizes incrementally to exactly decode(ids), multi-byte characters whole', () => {
    const text = 'Héllo wörld — 你好 👋🏽 done';
    const ids = tokenizer.encode(text);
    const pipeline = new TextPipeline(tokenizer, { promptTokens: [], stop: [] });
    const pieces = ids.map((id) => pipeline.push(id));
    pieces.push(pipeline.flush());
    expect(pieces.join('')).toBe(text);
    expect(pieces.every((p) => !p.includes('\uFFFD'))).toBe(true);
  });

  it('cuts at a stop string split across tokens and excludes it', () => {
    const pipeline = new TextPipeline(tokenizer, { promptTokens: [], stop: ['wor'] });
    let out = '';
    for (const id of tokenizer.encode('hello world again')) out += pipeline.push(id);
    out += pipeline.flush();
    expect(out).toBe('hello ');
    expect(pipeline.isStopped).toBe(true);
  });

  it('keeps the stop string with include_stop_str_in_output', () => {
    const pipeline = new TextPipeline(tokenizer, { promptTokens: [], stop: ['wor'], includeStopStrInOutput: true });
    let out = '';
    for (const id of tokenizer.encode('hello world again')) out += pipeline.push(id);
    out += pipeline.flush();
    expect(out).toBe('hello wor');
    expect(pipeline.text).toBe('hello wor');
  });

  it('skips special tokens (eos) but keeps the think tags', () => {
    const pipeline = new TextPipeline(tokenizer, { promptTokens: [], stop: [] });
    const ids = [...tokenizer.encode('<seed:think>a</seed:think>b'), tokenizer.tokenToId('<seed:eos>')!];
    expect(ids.map((id) => pipeline.push(id)).join('') + pipeline.flush()).toBe('<seed:think>a</seed:think>b');
  });
});

describe('ChatChoice', () => {
  it('streams reasoning then content; the non-streaming message agrees', () => {
    const reply = '<seed:think>Let me think about it.</seed:think>The answer is 4.';
    const { parts } = chat(reply);
    expect(joined(parts, 'reasoning_content')).toBe('Let me think about it.');
    expect(joined(parts, 'content')).toBe('The answer is 4.');
    const { choice } = chat(reply, { isStream: false });
    expect(choice.message().message).toMatchObject({ reasoning_content: 'Let me think about it.', content: 'The answer is 4.' });
  });

  it('starts in reasoning when the prompt opened the block', () => {
    const { parts } = chat('still thinking</seed:think>answer', { startsInReasoning: true });
    expect(joined(parts, 'reasoning_content')).toBe('still thinking');
    expect(joined(parts, 'content')).toBe('answer');
  });

  it('parses typed tool calls, streamed as deltas that concatenate to the non-streaming arguments', () => {
    const reply = '<seed:tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n3\n</parameter>\n</function>\n</seed:tool_call>';
    const { parts, choice } = chat(reply, { tools: TOOLS, parseToolCalls: true });
    expect(choice.hasToolCalls).toBe(true);
    const fragments = parts.flatMap((p) => p.delta.tool_calls ?? []);
    expect(fragments[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather', arguments: '' } });
    expect(JSON.parse(fragments.map((f) => f.function.arguments ?? '').join(''))).toEqual({ city: 'Paris', days: 3 });
    const whole = chat(reply, { tools: TOOLS, parseToolCalls: true, isStream: false }).choice.message().message;
    expect(JSON.parse(whole.tool_calls![0].function.arguments)).toEqual({ city: 'Paris', days: 3 });
    expect(whole.content).toBeNull();
  });

  it('returns only the first of two calls with parallel_tool_calls false (stream and message)', () => {
    const call = (city: string) => `<seed:tool_call>\n<function=get_weather>\n<parameter=city>\n${city}\n</parameter>\n</function>\n</seed:tool_call>`;
    const reply = call('Paris') + call('Rome');
    const all = chat(reply, { tools: TOOLS, parseToolCalls: true });
    expect(new Set(all.parts.flatMap((p) => p.delta.tool_calls ?? []).map((f) => f.index))).toEqual(new Set([0, 1]));
    const { parts } = chat(reply, { tools: TOOLS, parseToolCalls: true, parallelToolCalls: false });
    const fragments = parts.flatMap((p) => p.delta.tool_calls ?? []);
    expect(fragments.every((f) => f.index === 0)).toBe(true);
    expect(JSON.parse(fragments.map((f) => f.function.arguments ?? '').join(''))).toEqual({ city: 'Paris' });
    const whole = chat(reply, { tools: TOOLS, parseToolCalls: true, parallelToolCalls: false, isStream: false }).choice.message().message;
    expect(whole.tool_calls!.map((c) => JSON.parse(c.function.arguments))).toEqual([{ city: 'Paris' }]);
  });

  it('sees a forced tool-call opening (textPrefix) as generated text', () => {
    const { parts } = chat('\n<parameter=city>\nRome\n</parameter>\n</function>\n</seed:tool_call>', {
      tools: TOOLS, parseToolCalls: true, textPrefix: '<seed:tool_call>\n<function=get_weather>',
    });
    const fragments = parts.flatMap((p) => p.delta.tool_calls ?? []);
    expect(fragments[0].function.name).toBe('get_weather');
    expect(JSON.parse(fragments.map((f) => f.function.arguments ?? '').join(''))).toEqual({ city: 'Rome' });
  });

  it('leaves calls as content when parsing is off (tool_choice none)', () => {
    const reply = '<seed:tool_call>\n<function=get_weather>\n</function>\n</seed:tool_call>';
    expect(joined(chat(reply).parts, 'content')).toBe(reply);
  });

  it('attaches each token\'s logprobs to the chunk that carries its text', () => {
    const { parts, choice } = chat('Hello world', { numTopLogprobs: 1 });
    const logprobs = parts.flatMap((p) => p.logprobs ?? []).concat(choice.takePendingLogprobs() ?? []);
    expect(logprobs).toHaveLength(tokenizer.encode('Hello world').length);
    expect(logprobs.map((l) => l.token).join('')).toBe('Hello world');
    expect(logprobs[0].top_logprobs).toHaveLength(1);
    expect(Buffer.from(logprobs.flatMap((l) => l.bytes!)).toString('utf8')).toBe('Hello world');
  });
});

describe('CompletionChoice', () => {
  it('returns text and completions-shaped logprobs', () => {
    const choice = new CompletionChoice(tokenizer, tokenText, { promptTokens: [], stop: ['!'], includeStopStrInOutput: false, numTopLogprobs: 2 });
    let text = '';
    for (const id of tokenizer.encode('Hi there! More')) {
      text += choice.push(token(id)).map((p) => p.text).join('');
      if (choice.isStopped) break;
    }
    text += choice.flush().map((p) => p.text).join('');
    expect(text).toBe('Hi there');
    expect(choice.output).toBe('Hi there');
    const lp = choice.logprobs()!;
    expect(lp.tokens.join('')).toMatch(/^Hi there/);
    expect(lp.text_offset[0]).toBe(0);
    expect(lp.text_offset[1]).toBe(lp.tokens[0].length);
    expect(Object.keys(lp.top_logprobs[0])).toHaveLength(2);
  });
});
