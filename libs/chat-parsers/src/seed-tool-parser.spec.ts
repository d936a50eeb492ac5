// Tool-call parser: every case of tool_parser_cases.json (non-streaming, streaming, the single
// streaming call, and the derived cases; two derived cases record vLLM bugs we fix on purpose),
// split invariance, typed stream deltas, content rules and malformed blocks.
import { describe, expect, it } from 'vitest';
import type { ChatCompletionTool } from '../../openai-protocol/src/tool-call.types';
import { exhaustiveSplits, loadFixture, randomSplits, sameJson, sequentialIds } from '../test/fixtures';
import { SeedToolCallStreamParser, type ToolCallParserOptions } from './seed-tool-call-stream-parser';
import { extractToolCalls } from './seed-tool-parser';
import { accumulateToolDeltas, type ToolCallExtraction, type ToolStreamDelta } from './tool-call-deltas';

interface ExpectedCall {
  name: string;
  arguments: Record<string, unknown>;
  arguments_json: string;
}
interface ToolCase {
  id: string;
  mode: string;
  request_tools?: 'sample_tools' | 'typed_tools' | null;
  model_output?: string;
  call?: { delta_text: string };
  expected: {
    tools_called?: boolean;
    tool_calls?: ExpectedCall[];
    content?: string | null;
    delta?: { content: string };
    tool_calls_accumulated?: Record<string, { name: string; arguments: string }>;
    non_streaming_arguments_json?: string;
  };
}
const fixture = loadFixture<{
  sample_tools: ChatCompletionTool[];
  typed_tools: ChatCompletionTool[];
  cases: ToolCase[];
  derived_cases: ToolCase[];
}>('tool_parser_cases.json');

const toolsOf = (c: ToolCase) => (c.request_tools ? fixture[c.request_tools] : null);

export function streamToolCalls(pieces: readonly string[], options: ToolCallParserOptions): {
  deltas: ToolStreamDelta[];
  result: ToolCallExtraction;
} {
  const parser = new SeedToolCallStreamParser(options);
  const deltas = [...pieces.flatMap((p) => parser.push(p)), ...parser.finish()];
  return { deltas, result: accumulateToolDeltas(deltas) };
}

function expectMatchesCase(result: ToolCallExtraction, c: ToolCase): void {
  const calls = c.expected.tool_calls ?? [];
  expect(result.content).toBe(c.expected.content);
  expect(result.toolsCalled).toBe(c.expected.tools_called);
  expect(result.toolCalls.map((t) => t.function.name)).toEqual(calls.map((t) => t.name));
  // exact text, as vLLM's json.dumps writes it (upstream compares strings non-streaming)
  expect(result.toolCalls.map((t) => t.function.arguments)).toEqual(calls.map((t) => t.arguments_json));
  expect(result.toolCalls.map((t) => JSON.parse(t.function.arguments))).toEqual(calls.map((t) => t.arguments));
  for (const call of result.toolCalls) expect(call.type).toBe('function');
}

const allCases = [...fixture.cases, ...fixture.derived_cases];

describe('tool_parser_cases.json', () => {
  for (const c of allCases.filter((x) => x.mode === 'non_streaming')) {
    it(`${c.id} (non-streaming)`, () => {
      const result = extractToolCalls(c.model_output ?? '', { tools: toolsOf(c) });
      expectMatchesCase(result, c);
      for (const call of result.toolCalls) expect(call.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
    });
  }

  for (const c of fixture.cases.filter((x) => x.mode === 'streaming')) {
    it(`${c.id} (streaming: per character and random splits)`, () => {
      for (const pieces of randomSplits(c.model_output ?? '', 50, 11, 12)) {
        expectMatchesCase(streamToolCalls(pieces, { tools: toolsOf(c) }).result, c);
      }
    });
  }

  it('no_tools_streaming_single_call: a plain delta is echoed as content', () => {
    const c = fixture.cases.find((x) => x.mode === 'streaming_single_call');
    const parser = new SeedToolCallStreamParser({ tools: null });
    expect(parser.push(c?.call?.delta_text ?? '')).toEqual([c?.expected.delta]);
  });

  // Derived case documenting a pre-2026 vLLM bug: streamed values were JSON strings ("7", "false")
  // while the non-streaming path typed them. Here streamed arguments equal the non-streaming JSON.
  it('streaming_types_not_coerced: FIXED, streamed arguments are typed like non-streaming', () => {
    const c = fixture.derived_cases.find((x) => x.id === 'streaming_types_not_coerced');
    const text = c?.model_output ?? '';
    const { deltas, result } = streamToolCalls([...text], { tools: toolsOf(c!), generateId: sequentialIds() });
    expect(result.content).toBe(c?.expected.content);
    expect(result.toolCalls).toEqual([
      { id: 'call_0', type: 'function', function: { name: 'set_volume', arguments: c?.expected.non_streaming_arguments_json } },
    ]);
    expect(result.toolCalls[0].function.arguments).toBe('{"level": 7, "muted": false}');
    const fragments = deltas.flatMap((d) => ('toolCalls' in d ? d.toolCalls : []));
    expect(fragments[0]).toEqual({ index: 0, id: 'call_0', type: 'function', function: { name: 'set_volume', arguments: '' } });
    expect(fragments.slice(1).map((f) => f.function.arguments)).toEqual(['{"level": 7', ', "muted": false', '}']);
    expect(fragments.slice(1).every((f) => f.id === undefined && f.function.name === undefined)).toBe(true);
  });

  // Derived case documenting a pre-2026 vLLM bug (issue #26573): with no think block, streaming
  // never produced tool calls. The case says a new server should not copy it; here it is a call.
  it('streaming_bare_tool_call_not_detected: FIXED, a reply without think block streams its call', () => {
    const c = fixture.derived_cases.find((x) => x.id === 'streaming_bare_tool_call_not_detected');
    const text = c?.model_output ?? '';
    const { result } = streamToolCalls([...text], { tools: toolsOf(c!) });
    expect(result.content).toBeNull();
    expect(result.toolCalls.map((t) => [t.function.name, t.function.arguments])).toEqual([
      ['get_weather', '{"location": "Barcelona, Spain"}'],
    ]);
  });
});

describe('streaming equals non-streaming at every split', () => {
  for (const c of allCases.filter((x) => x.model_output !== undefined)) {
    it(c.id, () => {
      const text = c.model_output ?? '';
      const options = () => ({ tools: toolsOf(c), generateId: sequentialIds() });
      const whole = extractToolCalls(text, options());
      const splits = text.length <= 400 ? exhaustiveSplits(text, 150) : randomSplits(text, 300, 3);
      for (const pieces of splits) {
        const { result } = streamToolCalls(pieces, options());
        if (!sameJson(result, whole)) expect(result, JSON.stringify(pieces)).toEqual(whole);
      }
    });
  }
});
