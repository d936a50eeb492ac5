// The chat and completions validators: defaults, accepted shapes, and a precise 400 (param and
// code) for each kind of bad input.
import { describe, expect, it } from 'vitest';
import { validateChatCompletionRequest } from './chat-completion-request.validator';
import { validateCompletionRequest } from './completion-request.validator';
import { errorOf } from '../test/error-of';

const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

describe('validateChatCompletionRequest', () => {
  it('fills OpenAI defaults', () => {
    const p = validateChatCompletionRequest(base);
    expect(p).toMatchObject({ model: 'm', n: 1, temperature: 1, topP: 1, topK: -1, minP: 0, stream: false, includeUsage: false, numTopLogprobs: -1, stop: [], toolChoice: 'none', tools: null });
    expect(p.maxTokens).toBeUndefined();
  });

  it('reads every supported field', () => {
    const p = validateChatCompletionRequest({
      ...base,
      messages: [
        { role: 'developer', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"x": 1}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ],
      max_completion_tokens: 7, max_tokens: 99, temperature: 0.5, top_p: 0.9, top_k: 0, min_p: 0.1, seed: -1, stop: 'END', stop_token_ids: [2],
      n: 2, presence_penalty: 1, frequency_penalty: -1, repetition_penalty: 1.2, logprobs: true, top_logprobs: 5,
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }], tool_choice: 'required',
      stream: true, stream_options: { include_usage: true }, chat_template_kwargs: { thinking_budget: '512', foo: 1 }, user: 'u',
    });
    expect(p.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(p.messages[1].content).toBe('a\nb');
    expect(p.maxTokens).toBe(7);
    expect(p.maxTokensParam).toBe('max_completion_tokens');
    expect(p.topK).toBe(-1);
    expect(p.seed).toBe(2 ** 53 - 1);
    expect(p.stop).toEqual(['END']);
    expect(p.numTopLogprobs).toBe(5);
    expect(p.toolChoice).toBe('required');
    expect(p.thinkingBudget).toBe(512);
    expect(p.chatTemplateKwargs).toEqual({ foo: 1 });
    expect(p.includeUsage).toBe(true);
  });

  it('thinking_budget wins over chat_template_kwargs.thinking_budget; -1 is unlimited', () => {
    expect(validateChatCompletionRequest({ ...base, thinking_budget: 0, chat_template_kwargs: { thinking_budget: 9 } }).thinkingBudget).toBe(0);
    expect(validateChatCompletionRequest({ ...base, thinking_budget: -1 }).thinkingBudget).toBe(-1);
  });

  it('tools without tool_choice mean auto; a named choice must exist', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    expect(validateChatCompletionRequest({ ...base, tools }).toolChoice).toBe('auto');
    expect(validateChatCompletionRequest({ ...base, tools, tool_choice: { type: 'function', function: { name: 'f' } } }).toolChoice).toEqual({ name: 'f' });
  });

  it.each([
    ['a non-object body', [], null, 'invalid_type'],
    ['no model', { messages: base.messages }, 'model', 'missing_required_parameter'],
    ['model as number', { ...base, model: 3 }, 'model', 'invalid_type'],
    ['messages not an array', { ...base, messages: 'hi' }, 'messages', 'invalid_type'],
    ['empty messages', { ...base, messages: [] }, 'messages', 'invalid_value'],
    ['message not an object', { ...base, messages: ['hi'] }, 'messages[0]', 'invalid_type'],
    ['no role', { ...base, messages: [{ content: 'x' }] }, 'messages[0].role', 'missing_required_parameter'],
    ['user without content', { ...base, messages: [{ role: 'user' }] }, 'messages[0].content', 'missing_required_parameter'],
    ['image part', { ...base, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }, 'messages[0].content', 'invalid_value'],
    ['tool without tool_call_id', { ...base, messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id', 'missing_required_parameter'],
    ['bad arguments', { ...base, messages: [{ role: 'assistant', tool_calls: [{ function: { name: 'f', arguments: '[1]' } }] }] }, 'messages[0].tool_calls[0].function.arguments', 'invalid_value'],
    ['max_tokens 0', { ...base, max_tokens: 0 }, 'max_tokens', 'invalid_value'],
    ['max_tokens string', { ...base, max_tokens: '5' }, 'max_tokens', 'invalid_type'],
    ['temperature -1', { ...base, temperature: -1 }, 'temperature', 'invalid_value'],
    ['top_p 1.5', { ...base, top_p: 1.5 }, 'top_p', 'invalid_value'],
    ['top_k -2', { ...base, top_k: -2 }, 'top_k', 'invalid_value'],
    ['min_p 2', { ...base, min_p: 2 }, 'min_p', 'invalid_value'],
    ['presence 3', { ...base, presence_penalty: 3 }, 'presence_penalty', 'invalid_value'],
    ['repetition 0', { ...base, repetition_penalty: 0 }, 'repetition_penalty', 'invalid_value'],
    ['seed 1.5', { ...base, seed: 1.5 }, 'seed', 'invalid_type'],
    ['n 0', { ...base, n: 0 }, 'n', 'invalid_value'],
    ['n 17', { ...base, n: 17 }, 'n', 'invalid_value'],
    ['17 stops', { ...base, stop: Array.from({ length: 17 }, (_, i) => `s${i}`) }, 'stop', 'invalid_value'],
    ['stop token id -1', { ...base, stop_token_ids: [-1] }, 'stop_token_ids', 'invalid_value'],
    ['logprobs as int', { ...base, logprobs: 3 }, 'logprobs', 'invalid_type'],
    ['top_logprobs 21', { ...base, logprobs: true, top_logprobs: 21 }, 'top_logprobs', 'invalid_value'],
    ['tools not an array', { ...base, tools: {} }, 'tools', 'invalid_type'],
    ['tool without function', { ...base, tools: [{ type: 'function' }] }, 'tools[0].function', 'missing_required_parameter'],
    ['tool with a bad name', { ...base, tools: [{ type: 'function', function: { name: 'a b' } }] }, 'tools[0].function.name', 'invalid_value'],
    ['required without tools', { ...base, tool_choice: 'required' }, 'tool_choice', 'invalid_value'],
    ['unknown tool_choice', { ...base, tool_choice: 'sometimes' }, 'tool_choice', 'invalid_value'],
    ['stream as string', { ...base, stream: 'yes' }, 'stream', 'invalid_type'],
    ['thinking budget -2', { ...base, thinking_budget: -2 }, 'thinking_budget', 'invalid_value'],
    ['kwargs budget text', { ...base, chat_template_kwargs: { thinking_budget: 'lots' } }, 'chat_template_kwargs.thinking_budget', 'invalid_value'],
    ['logit_bias', { ...base, logit_bias: { 5: 10 } }, 'logit_bias', 'unsupported_parameter'],
    ['json response_format', { ...base, response_format: { type: 'json_object' } }, 'response_format', 'unsupported_parameter'],
  ])('%s → 400', (_name, body, param, code) => {
    const err = errorOf(() => validateChatCompletionRequest(body, { vocabSize: 100 }));
    expect(err.status).toBe(400);
    expect(err.toBody().error).toMatchObject({ type: 'invalid_request_error', param, code });
  });

  it('says what was expected and what came, naming the exact item', () => {
    const message = (extra: Record<string, unknown>) => errorOf(() => validateChatCompletionRequest({ ...base, ...extra })).message;
    expect(message({ top_p: 0 })).toBe("'top_p' must be > 0, got 0");
    expect(message({ stop: ['a', 3] })).toBe("'stop[1]' must be a string, got number");
    expect(message({ messages: [{ role: 'wizard', content: 'x' }] })).toBe(`'messages[0].role' must be one of "system", "developer", "user", "assistant", "tool", got "wizard"`);
    expect(message({ stream: true, stream_options: { include_usage: 1 } })).toBe("'stream_options.include_usage' must be a boolean, got number");
  });

  it('treats null as not given, as OpenAI does', () => {
    expect(validateChatCompletionRequest({ ...base, temperature: null, stop: null, tools: null, n: null })).toMatchObject({ temperature: 1, stop: [], tools: null, n: 1 });
  });

  it('reads the vLLM extensions: priority, include_stop_str_in_output, continuous usage, parallel_tool_calls', () => {
    const p = validateChatCompletionRequest({
      ...base, priority: -3, include_stop_str_in_output: true, parallel_tool_calls: false, stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: true },
    });
    expect(p).toMatchObject({ priority: -3, includeStopStrInOutput: true, parallelToolCalls: false, continuousUsageStats: true });
    expect(validateChatCompletionRequest(base)).toMatchObject({ priority: 0, includeStopStrInOutput: false, parallelToolCalls: true, continuousUsageStats: false });
    expect(errorOf(() => validateChatCompletionRequest({ ...base, priority: 0.5 })).param).toBe('priority');
  });

  it('checks stop token ids against the vocabulary', () => {
    expect(errorOf(() => validateChatCompletionRequest({ ...base, stop_token_ids: [100] }, { vocabSize: 100 })).param).toBe('stop_token_ids');
  });
});

describe('validateCompletionRequest', () => {
  it('accepts a string, token ids, or a one-element list of either', () => {
    expect(validateCompletionRequest({ model: 'm', prompt: 'hi' }).prompt).toBe('hi');
    expect(validateCompletionRequest({ model: 'm', prompt: [1, 2] }).prompt).toEqual([1, 2]);
    expect(validateCompletionRequest({ model: 'm', prompt: ['hi'] }).prompt).toBe('hi');
    expect(validateCompletionRequest({ model: 'm', prompt: [[3]] }).prompt).toEqual([3]);
    expect(validateCompletionRequest({ model: 'm', prompt: 'x', logprobs: 0 }).numTopLogprobs).toBe(0);
  });

  it.each([
    ['no prompt', { model: 'm' }, 'prompt', 'missing_required_parameter'],
    ['empty prompt', { model: 'm', prompt: '' }, 'prompt', 'invalid_value'],
    ['two prompts', { model: 'm', prompt: ['a', 'b'] }, 'prompt', 'invalid_value'],
    ['a token outside the vocabulary', { model: 'm', prompt: [5, 100] }, 'prompt', 'invalid_value'],
    ['logprobs 21', { model: 'm', prompt: 'x', logprobs: 21 }, 'logprobs', 'invalid_value'],
    ['logprobs true', { model: 'm', prompt: 'x', logprobs: true }, 'logprobs', 'invalid_type'],
    ['echo', { model: 'm', prompt: 'x', echo: true }, 'echo', 'unsupported_parameter'],
  ])('%s → 400', (_name, body, param, code) => {
    const err = errorOf(() => validateCompletionRequest(body, { vocabSize: 100 }));
    expect(err.toBody().error).toMatchObject({ param, code });
  });
});
