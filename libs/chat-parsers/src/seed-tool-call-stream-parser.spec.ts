// Tool-call stream parser beyond the fixture cases: content rules, malformed blocks staying in the
// content, typed argument deltas, several calls, think blocks, and split invariance of each.
import { describe, expect, it } from 'vitest';
import type { ChatCompletionTool } from '../../openai-protocol/src/tool-call.types';
import { exhaustiveSplits, randomSplits, sameJson, sequentialIds } from '../test/fixtures';
import { SeedToolCallStreamParser, type ToolCallParserOptions } from './seed-tool-call-stream-parser';
import { extractToolCalls } from './seed-tool-parser';
import { accumulateToolDeltas, type ToolCallExtraction } from './tool-call-deltas';

const tools: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'set_volume',
      parameters: { type: 'object', properties: { level: { type: 'integer' }, muted: { type: 'boolean' }, note: { type: 'string' } } },
    },
  },
  { type: 'function', function: { name: 'ping', parameters: { type: 'object', properties: {} } } },
];
const call = (body: string) => `<seed:tool_call>\n${body}\n</seed:tool_call>`;
const fn = (name: string, params: Record<string, string>) =>
  `<function=${name}>\n${Object.entries(params).map(([k, v]) => `<parameter=${k}>${v}</parameter>\n`).join('')}</function>`;

function parse(text: string, options: ToolCallParserOptions = {}): ToolCallExtraction {
  return extractToolCalls(text, { tools, generateId: sequentialIds(), ...options });
}
function summary(result: ToolCallExtraction): [string | null, ...string[]] {
  return [result.content, ...result.toolCalls.map((t) => `${t.function.name} ${t.function.arguments}`)];
}
/** Parses `text` whole and at many splits; all must agree. */
function parseEverySplit(text: string, options: ToolCallParserOptions = {}): ToolCallExtraction {
  const whole = parse(text, options);
  const splits = text.length <= 120 ? exhaustiveSplits(text, 60) : randomSplits(text, 100, 5);
  for (const pieces of splits) {
    const parser = new SeedToolCallStreamParser({ tools, generateId: sequentialIds(), ...options });
    const deltas = [...pieces.flatMap((p) => parser.push(p)), ...parser.finish()];
    const result = accumulateToolDeltas(deltas);
    if (!sameJson(result, whole)) expect(result, JSON.stringify(pieces)).toEqual(whole);
  }
  return whole;
}

describe('content around calls', () => {
  it.each([
    ['plain text', 'Hello there.', ['Hello there.']],
    ['whitespace-only reply without calls is kept', '\n\n', ['\n\n']],
    ['whitespace before a call is dropped', `\n\n${call(fn('ping', {}))}`, [null, 'ping {}']],
    ['text before a call is kept verbatim', `Sure.\n${call(fn('ping', {}))}`, ['Sure.\n', 'ping {}']],
    ['whitespace between and after calls is dropped', `${call(fn('ping', {}))}\n${call(fn('ping', {}))}\n`, [null, 'ping {}', 'ping {}']],
    ['text after a call is kept', `${call(fn('ping', {}))}\nDone.`, ['\nDone.', 'ping {}']],
  ])('%s', (_, text, expected) => expect(summary(parseEverySplit(text))).toEqual(expected));
});

describe('typed arguments', () => {
  it('stream deltas carry typed values as soon as each parameter is complete', () => {
    const text = call(fn('set_volume', { level: '\n7\n', muted: 'False', note: '007' }));
    const parser = new SeedToolCallStreamParser({ tools, generateId: sequentialIds() });
    const fragments = [...text].flatMap((c) => parser.push(c)).flatMap((d) => ('toolCalls' in d ? d.toolCalls : []));
    fragments.push(...parser.finish().flatMap((d) => ('toolCalls' in d ? d.toolCalls : [])));
    expect(fragments.map((f) => f.function.arguments)).toEqual(['', '{"level": 7', ', "muted": false', ', "note": "007"', '}']);
    expect(parseEverySplit(text).toolCalls[0].function.arguments).toBe('{"level": 7, "muted": false, "note": "007"}');
  });

  it('several calls get consecutive indices and their own ids; no-parameter call is {}', () => {
    const text = `${call(fn('set_volume', { level: '3' }))}${call(`${fn('ping', {})}\n${fn('set_volume', { level: '4' })}`)}`;
    const result = parseEverySplit(text);
    expect(result.toolCalls.map((t) => [t.id, t.function.name, t.function.arguments])).toEqual([
      ['call_0', 'set_volume', '{"level": 3}'],
      ['call_1', 'ping', '{}'],
      ['call_2', 'set_volume', '{"level": 4}'],
    ]);
  });

  it('one push may carry a whole call: header and arguments merge into one fragment', () => {
    const parser = new SeedToolCallStreamParser({ tools, generateId: sequentialIds() });
    expect(parser.push(`Hi ${call(fn('set_volume', { level: '1' }))}`)).toEqual([
      { content: 'Hi ' },
      { toolCalls: [{ index: 0, id: 'call_0', type: 'function', function: { name: 'set_volume', arguments: '{"level": 1}' } }] },
    ]);
  });

  it('default ids are call_ + 24 letters or digits, all different', () => {
    const result = extractToolCalls(call(fn('ping', {})).repeat(50), { tools });
    const ids = result.toolCalls.map((t) => t.id);
    expect(ids.every((id) => /^call_[A-Za-z0-9]{24}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(50);
  });
});

describe('malformed blocks stay in the content', () => {
  it.each([
    ['block without a function', `A ${call('nothing here')} B`, ['A <seed:tool_call>\nnothing here\n</seed:tool_call> B']],
    ['function name with a newline', 'x <function=get\nweather> y', ['x <function=get\nweather> y']],
    ['function name with a tag in it', '<seed:tool_call><function=<b>hi</b>', ['<seed:tool_call><function=<b>hi</b>']],
    ['empty function name', '<function=>', ['<function=>']],
    ['reply cut inside the function tag', 'ok <seed:tool_call>\n<function=set_vol', ['ok <seed:tool_call>\n<function=set_vol']],
    ['reply cut inside an empty block', 'ok <seed:tool_call>\n', ['ok <seed:tool_call>\n']],
    ['a lone partial tag at the end', 'ok <seed:tool', ['ok <seed:tool']],
    ['a function name past 256 characters', `<function=${'n'.repeat(300)}>`, [`<function=${'n'.repeat(300)}>`]],
  ])('%s', (_, text, expected) => expect(summary(parseEverySplit(text))).toEqual(expected));

  it('a malformed block before a good one: the good one is still a call', () => {
    expect(summary(parseEverySplit(`<function=a b\n${call(fn('ping', {}))}`))).toEqual(['<function=a b\n', 'ping {}']);
  });
});

describe('tolerated irregularities (as vLLM)', () => {
  it.each([
    ['cut inside a value: the partial value counts', '<seed:tool_call>\n<function=set_volume>\n<parameter=note>hal', 'set_volume {"note": "hal"}'],
    ['cut inside a parameter tag: parameter dropped', '<seed:tool_call>\n<function=set_volume>\n<parameter=lev', 'set_volume {}'],
    ['missing </parameter>: value ends at </function>', '<function=set_volume>\n<parameter=level>5\n</function>', 'set_volume {"level": 5}'],
    ['missing </function>: ends at </seed:tool_call>', '<seed:tool_call>\n<function=set_volume>\n<parameter=level>5</parameter>\n</seed:tool_call>', 'set_volume {"level": 5}'],
    ['broken parameter tag skipped', '<function=set_volume>\n<parameter=le<parameter=level>2</parameter></function>', 'set_volume {"level": 2}'],
    ['unknown function: strings', call(fn('nope', { level: '2', x: 'null' })), 'nope {"level": "2", "x": null}'],
    ['undeclared parameter: string', call(fn('set_volume', { level: '2', extra: '[1]' })), 'set_volume {"level": 2, "extra": "[1]"}'],
    ['parameter named like an Object member', call(fn('set_volume', { constructor: '1' })), 'set_volume {"constructor": "1"}'],
    ['value with markup and quotes', call(fn('set_volume', { note: 'a <b>"q"</b>\n\\ é' })), 'set_volume {"note": "a <b>\\"q\\"</b>\\n\\\\ é"}'],
  ])('%s', (_, text, expected) => expect(summary(parseEverySplit(text)).slice(1)).toEqual([expected]));
});

describe('think blocks', () => {
  const inner = `<seed:think>I could write ${call(fn('ping', {}))} here.</seed:think>`;
  it('calls inside <seed:think>…</seed:think> are not calls (the block stays content)', () => {
    expect(summary(parseEverySplit(`${inner}\n${call(fn('set_volume', { level: '1' }))}`))).toEqual([
      `${inner}\n`,
      'set_volume {"level": 1}',
    ]);
  });
  it('skipThinkBlocks: false parses them', () => {
    expect(summary(parseEverySplit(inner, { skipThinkBlocks: false }))).toEqual([
      '<seed:think>I could write  here.</seed:think>',
      'ping {}',
    ]);
  });
});

describe('long values', () => {
  it('a 200 kB value streamed in small deltas is parsed once, in linear time', () => {
    const value = 'x<'.repeat(100_000);
    const text = call(fn('set_volume', { note: value }));
    const parser = new SeedToolCallStreamParser({ tools, generateId: sequentialIds() });
    const started = Date.now();
    const deltas = [];
    for (let i = 0; i < text.length; i += 3) deltas.push(...parser.push(text.slice(i, i + 3)));
    deltas.push(...parser.finish());
    expect(Date.now() - started).toBeLessThan(3000);
    expect(JSON.parse(accumulateToolDeltas(deltas).toolCalls[0].function.arguments)).toEqual({ note: value });
  });
});
