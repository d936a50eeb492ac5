// Streamed tool-parser output: `{content}` or `{toolCalls}` deltas (OpenAI delta shape), a
// collector that merges adjacent fragments, and the accumulation of a delta stream into the
// finished message (content + tool_calls) — the same accumulation an OpenAI client does.

import type {
  ChatCompletionMessageToolCall,
  ChatCompletionToolCallDelta,
} from '../../openai-protocol/src/tool-call.types';

export type ToolStreamDelta = { content: string } | { toolCalls: ChatCompletionToolCallDelta[] };

/** A finished reply after tool-call extraction: content outside the calls (null when empty). */
export interface ToolCallExtraction {
  toolsCalled: boolean;
  toolCalls: ChatCompletionMessageToolCall[];
  content: string | null;
}

/** Collects the deltas of one push()/finish(), merging content with content and fragments of one call. */
export class DeltaCollector {
  private deltas: ToolStreamDelta[] = [];

  content(text: string): void {
    if (!text) return;
    const last = this.deltas[this.deltas.length - 1];
    if (last !== undefined && 'content' in last) last.content += text;
    else this.deltas.push({ content: text });
  }

  toolCall(fragment: ChatCompletionToolCallDelta): void {
    const last = this.deltas[this.deltas.length - 1];
    const entry = last !== undefined && 'toolCalls' in last ? last.toolCalls[last.toolCalls.length - 1] : undefined;
    if (entry !== undefined && entry.index === fragment.index && fragment.id === undefined) {
      entry.function.arguments = (entry.function.arguments ?? '') + (fragment.function.arguments ?? '');
    } else {
      this.deltas.push({ toolCalls: [fragment] });
    }
  }

  take(): ToolStreamDelta[] {
    const deltas = this.deltas;
    this.deltas = [];
    return deltas;
  }
}

/** Accumulates a whole delta stream the way a client does (calls by index, arguments appended). */
export function accumulateToolDeltas(deltas: readonly ToolStreamDelta[]): ToolCallExtraction {
  let content = '';
  const calls: ChatCompletionMessageToolCall[] = [];
  for (const delta of deltas) {
    if ('content' in delta) {
      content += delta.content;
      continue;
    }
    for (const fragment of delta.toolCalls) {
      const call = (calls[fragment.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
      if (fragment.id !== undefined) call.id = fragment.id;
      if (fragment.function.name !== undefined) call.function.name += fragment.function.name;
      call.function.arguments += fragment.function.arguments ?? '';
    }
  }
  return { toolsCalled: calls.length > 0, toolCalls: calls, content: content || null };
}
