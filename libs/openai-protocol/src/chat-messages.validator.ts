// Validates chat `messages` and `tools`: roles system/developer/user/assistant/tool, content as a
// string or text parts (joined with "\n" as vLLM does), assistant tool_calls whose arguments are
// JSON strings (checked here so the error names the exact field; the chat-template lib parses
// them into objects), tool messages with tool_call_id. Output is ready for ChatTemplateRenderer.
import type { ChatCompletionTool } from './tool-call.types';
import { OpenAiError } from './openai-error';
import { FieldReader, isObject, typeName } from './request-fields';

export const MAX_MESSAGES = 4096;
export const MAX_TOOLS = 128;
const TOOL_NAME = /^[a-zA-Z0-9_.:-]{1,64}$/;
const TEXT_PARTS = new Set(['text', 'input_text', 'output_text']);

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

function readContent(m: FieldReader, required: boolean): string | null {
  const param = m.param('content');
  const value = m.raw('content');
  if (value === undefined) {
    if (required) throw OpenAiError.invalid(`'${param}' is required`, param, 'missing_required_parameter');
    return null;
  }
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) throw m.typeError('content', 'a string or an array of content parts', value);
  return value
    .map((part, i) => {
      const where = `${param}[${i}]`;
      if (!isObject(part)) throw OpenAiError.invalid(`'${where}' must be an object, got ${typeName(part)}`, param, 'invalid_type');
      if (typeof part.type !== 'string' || !TEXT_PARTS.has(part.type)) {
        throw OpenAiError.invalid(`'${where}.type' ${JSON.stringify(part.type)} is not supported (text parts only)`, param, 'invalid_value');
      }
      if (typeof part.text !== 'string') throw OpenAiError.invalid(`'${where}.text' must be a string, got ${typeName(part.text)}`, param, 'invalid_type');
      return part.text;
    })
    .join('\n');
}

function readToolCalls(m: FieldReader): ValidatedToolCall[] | undefined {
  const calls = m.array('tool_calls');
  if (calls === undefined) return undefined;
  return calls.map((call, j) => {
    const where = `${m.param('tool_calls')}[${j}]`;
    if (!isObject(call)) throw OpenAiError.invalid(`'${where}' must be an object, got ${typeName(call)}`, where, 'invalid_type');
    const c = new FieldReader(call, where);
    const fn = c.object('function');
    if (fn === undefined) throw OpenAiError.invalid(`'${where}.function' is required`, `${where}.function`, 'missing_required_parameter');
    const f = new FieldReader(fn, `${where}.function`);
    const name = f.string('name', { nonEmpty: true });
    if (name === undefined) throw OpenAiError.invalid(`'${where}.function.name' is required`, f.param('name'), 'missing_required_parameter');
    const args = f.raw('arguments');
    let argumentsText = '{}';
    if (typeof args === 'string') {
      argumentsText = args.trim() === '' ? '{}' : args;
      try {
        const parsed: unknown = JSON.parse(argumentsText);
        if (!isObject(parsed)) throw new Error('not an object');
      } catch {
        throw OpenAiError.invalid(`'${where}.function.arguments' must be a JSON object encoded as a string`, f.param('arguments'), 'invalid_value');
      }
    } else if (isObject(args)) {
      argumentsText = JSON.stringify(args);
    } else if (args !== undefined) {
      throw f.typeError('arguments', 'a string', args);
    }
    return { id: c.string('id') ?? `call_${j}`, type: 'function', function: { name, arguments: argumentsText } };
  });
}

function readMessage(value: unknown, i: number): ValidatedChatMessage {
  const where = `messages[${i}]`;
  if (!isObject(value)) throw OpenAiError.invalid(`'${where}' must be an object, got ${typeName(value)}`, where, 'invalid_type');
  const m = new FieldReader(value, where);
  const rawRole = m.raw('role');
  if (rawRole === undefined) throw OpenAiError.invalid(`'${where}.role' is required`, `${where}.role`, 'missing_required_parameter');
  if (typeof rawRole !== 'string' || !['system', 'developer', 'user', 'assistant', 'tool'].includes(rawRole)) {
    throw OpenAiError.invalid(
      `'${where}.role' must be one of 'system', 'developer', 'user', 'assistant', 'tool', got ${JSON.stringify(rawRole)}`,
      `${where}.role`,
      'invalid_value',
    );
  }
  const role = rawRole === 'developer' ? 'system' : (rawRole as ValidatedChatMessage['role']);
  const message: ValidatedChatMessage = { role, content: null };
  const name = m.string('name', { maxLength: 256 });
  if (name !== undefined) message.name = name;
  if (role === 'assistant') {
    const toolCalls = readToolCalls(m);
    message.content = readContent(m, toolCalls === undefined || toolCalls.length === 0);
    if (toolCalls !== undefined && toolCalls.length > 0) message.tool_calls = toolCalls;
    const reasoning = m.string('reasoning_content');
    if (reasoning !== undefined) message.reasoning_content = reasoning;
    return message;
  }
  message.content = readContent(m, true);
  if (role === 'tool') {
    const id = m.string('tool_call_id');
    if (id === undefined) throw OpenAiError.invalid(`'${where}.tool_call_id' is required for tool messages`, `${where}.tool_call_id`, 'missing_required_parameter');
    message.tool_call_id = id;
  }
  return message;
}

export function readMessages(f: FieldReader): ValidatedChatMessage[] {
  if (!f.has('messages')) throw OpenAiError.invalid("'messages' is required", 'messages', 'missing_required_parameter');
  const list = f.array('messages', { maxItems: MAX_MESSAGES });
  if (!list || list.length === 0) throw OpenAiError.invalid("'messages' must contain at least one message", 'messages', 'invalid_value');
  return list.map(readMessage);
}

export function readTools(f: FieldReader): ChatCompletionTool[] | null {
  const list = f.array('tools', { maxItems: MAX_TOOLS });
  if (list === undefined || list.length === 0) return null;
  const names = new Set<string>();
  return list.map((tool, i) => {
    const where = `tools[${i}]`;
    if (!isObject(tool)) throw OpenAiError.invalid(`'${where}' must be an object, got ${typeName(tool)}`, where, 'invalid_type');
    const t = new FieldReader(tool, where);
    if (t.raw('type') !== 'function') throw OpenAiError.invalid(`'${where}.type' must be 'function'`, `${where}.type`, 'invalid_value');
    const fn = t.object('function');
    if (fn === undefined) throw OpenAiError.invalid(`'${where}.function' is required`, `${where}.function`, 'missing_required_parameter');
    const f2 = new FieldReader(fn, `${where}.function`);
    const name = f2.string('name');
    if (name === undefined || !TOOL_NAME.test(name)) {
      throw OpenAiError.invalid(`'${where}.function.name' must be 1-64 letters, digits, '_', '-', '.' or ':'`, `${where}.function.name`, 'invalid_value');
    }
    if (names.has(name)) throw OpenAiError.invalid(`tool '${name}' is defined twice`, `${where}.function.name`, 'invalid_value');
    names.add(name);
    const out: ChatCompletionTool = { type: 'function', function: { name } };
    const description = f2.string('description');
    if (description !== undefined) out.function.description = description;
    const parameters = f2.object('parameters');
    if (parameters !== undefined) out.function.parameters = parameters;
    const strict = f2.bool('strict');
    if (strict !== undefined) out.function.strict = strict;
    return out;
  });
}
