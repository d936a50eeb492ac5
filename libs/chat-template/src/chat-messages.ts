// Turns OpenAI-wire chat messages and tools into what chat templates expect, as vLLM does before
// rendering (vllm/entrypoints/chat_utils.py): tool-call `arguments` sent as JSON strings are
// parsed into objects (empty -> {}), text content parts are joined into one string ("\n"), and
// tools without `parameters` get an empty object schema (OpenAI: "omitting parameters defines a
// function with an empty parameter list"). Inputs are never mutated.
// Tests: chat-template-renderer.spec.ts.

/** A malformed request (HTTP 400): unparseable arguments, unsupported content parts. */
export class ChatTemplateInputError extends Error {
  override name = 'ChatTemplateInputError';
}

export interface ChatContentPart {
  type: string;
  text?: string;
  [key: string]: unknown;
}

export interface ChatToolCall {
  id?: string;
  type?: string;
  function: { name: string; arguments?: string | Record<string, unknown> | null };
  [key: string]: unknown;
}

export interface ChatMessage {
  role: string;
  content?: string | ChatContentPart[] | null;
  reasoning_content?: string | null;
  tool_calls?: ChatToolCall[] | null;
  tool_call_id?: string;
  name?: string;
  [key: string]: unknown;
}

export interface ChatTool {
  type: string;
  function?: { name: string; description?: string; parameters?: Record<string, unknown>; [key: string]: unknown };
  [key: string]: unknown;
}

const TEXT_PART_TYPES = new Set(['text', 'input_text', 'output_text', 'refusal']);

function flattenContent(content: ChatMessage['content'], index: number): string | null | undefined {
  if (!Array.isArray(content)) return content;
  return content
    .map((part) => {
      if (!TEXT_PART_TYPES.has(part.type)) {
        throw new ChatTemplateInputError(`messages[${index}]: content part type '${part.type}' is not supported (text only)`);
      }
      return String(part.text ?? part[part.type] ?? '');
    })
    .join('\n');
}

function parseArguments(args: unknown, where: string): unknown {
  if (args === undefined || args === null || args === '') return {};
  if (typeof args !== 'string') return args;
  try {
    return JSON.parse(args);
  } catch {
    throw new ChatTemplateInputError(`${where}: function.arguments is not valid JSON`);
  }
}

/** Messages ready for a chat template (deep copies). */
export function prepareMessages(messages: ChatMessage[]): Record<string, unknown>[] {
  return messages.map((message, i) => {
    const copy = structuredClone(message) as ChatMessage;
    if (copy.content !== undefined) copy.content = flattenContent(copy.content, i);
    if (copy.role === 'assistant' && Array.isArray(copy.tool_calls)) {
      copy.tool_calls.forEach((call, j) => {
        if (call?.function) {
          call.function.arguments = parseArguments(call.function.arguments, `messages[${i}].tool_calls[${j}]`) as Record<string, unknown>;
        }
      });
    }
    return copy;
  });
}

/** Tools ready for a chat template (deep copies); missing parameters become an empty object schema. */
export function prepareTools(tools: ChatTool[]): Record<string, unknown>[] {
  return tools.map((tool) => {
    const copy = structuredClone(tool);
    if (copy.function) {
      const parameters = copy.function.parameters ?? { type: 'object' };
      copy.function.parameters = { ...parameters, properties: parameters.properties ?? {} };
    }
    return copy;
  });
}

/** thinking_budget as an integer: numbers pass, integer strings ("512") are converted. */
export function coerceThinkingBudget(value: unknown): unknown {
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return value;
}
