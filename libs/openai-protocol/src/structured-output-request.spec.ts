// response_format and forcing tool_choice into the grammar request, and their 400s.
import { describe, expect, it } from 'vitest';
import { validateChatCompletionRequest } from './chat-completion-request.validator';
import { validateCompletionRequest } from './completion-request.validator';
import { OpenAiError } from './openai-error';

const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const tool = (name: string) => ({ type: 'function', function: { name, parameters: { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] } } });

function error(fn: () => unknown): OpenAiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof OpenAiError) return e;
    throw e;
  }
  throw new Error('no OpenAiError');
}

describe('structured-output request surface', () => {
  it('reads text, json_object and json_schema', () => {
    expect(validateChatCompletionRequest({ ...base, response_format: { type: 'text' } }).grammar).toBeNull();
    expect(validateChatCompletionRequest({ ...base, response_format: { type: 'json_object' } }).grammar).toEqual({ kind: 'json_object' });
    const schema = { type: 'object', properties: { x: { type: 'string' } } };
    expect(validateChatCompletionRequest({ ...base, response_format: { type: 'json_schema', json_schema: { name: 'n', schema, strict: true } } }).grammar)
      .toEqual({ kind: 'json_schema', schema });
    expect(validateCompletionRequest({ model: 'm', prompt: 'p', response_format: { type: 'json_object' } }).grammar).toEqual({ kind: 'json_object' });
  });

  it('forces a tool call for "required" (every tool) and a named function (that one); "auto" stays free', () => {
    const tools = [tool('f'), tool('g')];
    const required = validateChatCompletionRequest({ ...base, tools, tool_choice: 'required' }).grammar;
    expect(required?.kind === 'tool_call' && required.tools.map((t) => t.name)).toEqual(['f', 'g']);
    const named = validateChatCompletionRequest({ ...base, tools, tool_choice: { type: 'function', function: { name: 'g' } } }).grammar;
    expect(named?.kind === 'tool_call' && named.tools.map((t) => t.name)).toEqual(['g']);
    expect(validateChatCompletionRequest({ ...base, tools, tool_choice: 'auto' }).grammar).toBeNull();
  });

  it.each([
    [{ type: 'json_schema', json_schema: { name: 'n', schema: { type: 'object', patternProperties: {} } } }, 'response_format.json_schema.schema', 'patternProperties'],
    [{ type: 'json_schema', json_schema: { name: 'n', schema: 'x' } }, 'response_format.json_schema.schema', 'JSON Schema'],
    [{ type: 'json_schema' }, 'response_format.json_schema', 'schema'],
    [{ type: 'yaml' }, 'response_format.type', 'yaml'],
  ])('400 for %j', (format, param, words) => {
    const e = error(() => validateChatCompletionRequest({ ...base, response_format: format }));
    expect(e.status).toBe(400);
    expect(e.param).toBe(param);
    expect(e.message).toContain(words);
  });

  it('400 naming the keyword of a tool schema a forced call cannot enforce', () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'array', uniqueItems: true } } } } }];
    const e = error(() => validateChatCompletionRequest({ ...base, tools, tool_choice: 'required' }));
    expect(e.param).toBe('tools');
    expect(e.message).toContain('uniqueItems');
  });
});
