// The whole Seed-OSS reply as the API returns it: reasoning split off first (seed-reasoning-parser),
// then tool calls parsed from the content only, so calls written while thinking are not calls.
// parseSeedOutput for a finished reply (also what `tpserve parse` prints), SeedOutputStreamParser for
// streamed deltas in the wire shape of `choices[].delta`. Tested by seed-output-parser.spec.ts.

import type {
  ChatCompletionMessageToolCall,
  ChatCompletionTool,
  ChatCompletionToolCallDelta,
} from '../../openai-protocol/src/tool-call.types';
import { extractReasoning, type ReasoningDelta, SeedReasoningStreamParser } from './seed-reasoning-parser';
import { SeedToolCallStreamParser } from './seed-tool-call-stream-parser';
import { extractToolCalls } from './seed-tool-parser';
import type { ToolStreamDelta } from './tool-call-deltas';

export interface SeedOutputOptions {
  /** The request's `tools` (their schemas type the arguments). */
  tools?: readonly ChatCompletionTool[] | null;
  /** The prompt left a `<seed:think>` block open (see promptOpensReasoning). */
  startsInReasoning?: boolean;
  /** Parse tool calls (default true; false e.g. for tool_choice "none"). */
  parseToolCalls?: boolean;
  /** Tool call id generator (default: random `call_<24 alnum>`). */
  generateId?: () => string;
}

/** `choices[].message` fields of a finished reply; empty strings are null. */
export interface SeedParsedOutput {
  reasoning_content: string | null;
  content: string | null;
  tool_calls: ChatCompletionMessageToolCall[];
}

/** `choices[].delta` fields of one streamed chunk. */
export interface SeedOutputDelta {
  reasoning_content?: string;
  content?: string;
  tool_calls?: ChatCompletionToolCallDelta[];
}

export function parseSeedOutput(text: string, options: SeedOutputOptions = {}): SeedParsedOutput {
  const { reasoningContent, content } = extractReasoning(text, options);
  if (content === null || options.parseToolCalls === false) {
    return { reasoning_content: reasoningContent, content, tool_calls: [] };
  }
  const extraction = extractToolCalls(content, options);
  return { reasoning_content: reasoningContent, content: extraction.content, tool_calls: extraction.toolCalls };
}

/** Streaming twin of parseSeedOutput: push() each detokenized delta, finish() at the end. */
export class SeedOutputStreamParser {
  private readonly reasoning: SeedReasoningStreamParser;
  private readonly toolCalls: SeedToolCallStreamParser | null;

  constructor(options: SeedOutputOptions = {}) {
    this.reasoning = new SeedReasoningStreamParser(options);
    this.toolCalls = options.parseToolCalls === false ? null : new SeedToolCallStreamParser(options);
  }

  /** Whether `</seed:think>` has been seen. */
  get isReasoningEnd(): boolean {
    return this.reasoning.isReasoningEnd;
  }

  push(text: string): SeedOutputDelta[] {
    return this.convert(this.reasoning.push(text), false);
  }

  finish(): SeedOutputDelta[] {
    return this.convert(this.reasoning.finish(), true);
  }

  private convert(delta: ReasoningDelta, isLast: boolean): SeedOutputDelta[] {
    const out: SeedOutputDelta[] = [];
    if (delta.reasoningDelta) out.push({ reasoning_content: delta.reasoningDelta });
    const content = delta.contentDelta ?? '';
    if (this.toolCalls === null) {
      if (content) out.push({ content });
      return out;
    }
    const toolDeltas: ToolStreamDelta[] = content ? this.toolCalls.push(content) : [];
    if (isLast) toolDeltas.push(...this.toolCalls.finish());
    for (const d of toolDeltas) out.push('content' in d ? { content: d.content } : { tool_calls: d.toolCalls });
    return out;
  }
}

/** Accumulates streamed deltas the way a client does (for tests and the CLI). */
export function accumulateSeedDeltas(deltas: readonly SeedOutputDelta[]): SeedParsedOutput {
  let reasoning = '';
  let content = '';
  const calls: ChatCompletionMessageToolCall[] = [];
  for (const delta of deltas) {
    reasoning += delta.reasoning_content ?? '';
    content += delta.content ?? '';
    for (const f of delta.tool_calls ?? []) {
      const call = (calls[f.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
      if (f.id !== undefined) call.id = f.id;
      call.function.name += f.function.name ?? '';
      call.function.arguments += f.function.arguments ?? '';
    }
  }
  return { reasoning_content: reasoning || null, content: content || null, tool_calls: calls };
}
