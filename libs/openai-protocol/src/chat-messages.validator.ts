// Chat `messages` and `tools`: their schemas (shapes, roles, names) for the chat field table, and
// the readers that turn a checked body into ChatTemplateRenderer's input: content as a string or
// text parts (joined with "\n" as vLLM does), developer -> system, assistant tool_calls whose
// arguments are JSON strings (checked here so the error names the exact field; the chat-template
// lib parses them into objects), tool messages with tool_call_id, unique tool names.
import type { ChatCompletionTool } from './tool-call.types';
import { OpenAiError } from './openai-error';
import { given, isObject, objectOf, optional, typeName, type JsonObject, type JsonSchema } from './request-schema';

export const MAX_MESSAGES = 4096;
export const MAX_TOOLS = 128;
const TEXT_PARTS = new Set(['text', 'input_text', 'output_text']);
const text = optional({ type: 'string' });

const TOOL_CALL_SCHEMA = objectOf({
  id: text,
  function: objectOf({ name: { type: 'string', minLength: 1 }, arguments: optional({ type: ['string', 'object'] }) }, ['name']),
}, ['function']);

export const MESSAGES_SCHEMA: JsonSchema = optional({
  type: 'array',
  maxItems: MAX_MESSAGES,
  items: objectOf({
    role: { enum: ['system', 'developer', 'user', 'assistant', 'tool'] },
    name: optional({ type: 'string', maxLength: 256 }),
    content: optional({ type: ['string', 'array'] }),
    tool_calls: optional({ type: 'array', items: TOOL_CALL_SCHEMA }),
    reasoning_content: text,
    tool_call_id: text,
  }, ['role']),
});

export const TOOLS_SCHEMA: JsonSchema = optional({
  type: 'array',
  maxItems: MAX_TOOLS,
  items: objectOf({
    type: { const: 'function' },
    function: objectOf({
      name: { type: 'string', pattern: '^[a-zA-Z0-9_.:-]{1,64}$' },
      description: text,
      parameters: optional({ type: 'object' }),
      strict: optional({ type: 'boolean' }),
    }, ['name']),
  }, ['type', 'function']),
});

export interface ValidatedToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ValidatedChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  reasoning_content?: string;
  tool_calls?: ValidatedToolCall[];
  tool_call_id?: string;
  name?: string;
}

function readContent(m: JsonObject, where: string, required: boolean): string | null {
  const param = `${where}.content`;
  const value = given<string | unknown[]>(m, 'content');
  if (value === undefined) {
    if (required) throw OpenAiError.invalid(`'${param}' is required`, param, 'missing_required_parameter');
    return null;
  }
  if (typeof value === 'string') return value;
  return value
    .map((part, i) => {
      if (!isObject(part)) throw OpenAiError.invalid(`'${param}[${i}]' must be an object, got ${typeName(part)}`, param, 'invalid_type');
      if (typeof part.type !== 'string' || !TEXT_PARTS.has(part.type)) {
        throw OpenAiError.invalid(`'${param}[${i}].type' ${JSON.stringify(part.type)} is not supported (text parts only)`, param, 'invalid_value');
      }
      if (typeof part.text !== 'string') throw OpenAiError.invalid(`'${param}[${i}].text' must be a string, got ${typeName(part.text)}`, param, 'invalid_type');
      return part.text;
    })
    .join('\n');
}

function readArguments(args: string | JsonObject | undefined, param: string): string {
  if (args === undefined) return '{}';
  if (typeof args !== 'string') return JSON.stringify(args);
  const argumentsText = args.trim() === '' ? '{}' : args;
  let parsed: unknown;
  try {
    parsed = JSON.parse(argumentsText);
  } catch {
    parsed = undefined;
  }
  if (!isObject(parsed)) throw OpenAiError.invalid(`'${param}' must be a JSON object encoded as a string`, param, 'invalid_value');
  return argumentsText;
}

function readToolCalls(m: JsonObject, where: string): ValidatedToolCall[] | undefined {
  return given<JsonObject[]>(m, 'tool_calls')?.map((call, j) => {
    const fn = call.function as { name: string; arguments?: string | JsonObject | null };
    const args = readArguments(fn.arguments ?? undefined, `${where}.tool_calls[${j}].function.arguments`);
    return { id: given<string>(call, 'id') ?? `call_${j}`, type: 'function', function: { name: fn.name, arguments: args } };
  });
}

function readMessage(m: JsonObject, i: number): ValidatedChatMessage {
  const where = `messages[${i}]`;
  const role = m.role === 'developer' ? 'system' : (m.role as ValidatedChatMessage['role']);
  const message: ValidatedChatMessage = { role, content: null };
  const name = given<string>(m, 'name');
  if (name !== undefined) message.name = name;
  if (role === 'assistant') {
    const toolCalls = readToolCalls(m, where);
    message.content = readContent(m, where, toolCalls === undefined || toolCalls.length === 0);
    if (toolCalls !== undefined && toolCalls.length > 0) message.tool_calls = toolCalls;
    const reasoning = given<string>(m, 'reasoning_content');
    if (reasoning !== undefined) message.reasoning_content = reasoning;
    return message;
  }
  message.content = readContent(m, where, true);
  if (role === 'tool') {
    const id = given<string>(m, 'tool_call_id');
    if (id === undefined) throw OpenAiError.invalid(`'${where}.tool_call_id' is required for tool messages`, `${where}.tool_call_id`, 'missing_required_parameter');
    message.tool_call_id = id;
  }
  return message;
}

/** The messages of a body checked against MESSAGES_SCHEMA. */
export function readMessages(body: JsonObject): ValidatedChatMessage[] {
  const list = given<JsonObject[]>(body, 'messages');
  if (list === undefined) throw OpenAiError.invalid("'messages' is required", 'messages', 'missing_required_parameter');
  if (list.length === 0) throw OpenAiError.invalid("'messages' must contain at least one message", 'messages', 'invalid_value');
  return list.map(readMessage);
}

/** The tools of a body checked against TOOLS_SCHEMA; null when absent or empty. */
export function readTools(body: JsonObject): ChatCompletionTool[] | null {
  const list = given<Array<{ function: ChatCompletionTool['function'] & JsonObject }>>(body, 'tools');
  if (list === undefined || list.length === 0) return null;
  const names = new Set<string>();
  return list.map((tool, i) => {
    const fn = tool.function;
    if (names.has(fn.name)) throw OpenAiError.invalid(`tool '${fn.name}' is defined twice`, `tools[${i}].function.name`, 'invalid_value');
    names.add(fn.name);
    const out: ChatCompletionTool = { type: 'function', function: { name: fn.name } };
    const description = given<string>(fn, 'description');
    if (description !== undefined) out.function.description = description;
    const parameters = given<Record<string, unknown>>(fn, 'parameters');
    if (parameters !== undefined) out.function.parameters = parameters;
    const strict = given<boolean>(fn, 'strict');
    if (strict !== undefined) out.function.strict = strict;
    return out;
  });
}
