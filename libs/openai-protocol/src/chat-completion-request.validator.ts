// Validates a POST /v1/chat/completions body into ChatCompletionParams, or throws a 400
// OpenAiError naming the parameter. Model existence and context length are checked by the server
// (they need the model); everything that needs only the body is checked here.
// Tests: request-validators.spec.ts.
import { readMessages, readTools, type ValidatedChatMessage } from './chat-messages.validator';
import { MAX_TOP_LOGPROBS, readGenerationParams, type GenerationParams, type ValidationLimits } from './generation-params';
import { OpenAiError } from './openai-error';
import { FieldReader, isObject, typeName, type JsonObject } from './request-fields';
import { readGrammarRequest } from './structured-output-request';
import type { GrammarRequest } from '../../structured-output/src/grammar-compiler';
import type { ChatCompletionTool } from './tool-call.types';

/** 'none' | 'auto' | 'required' | a named function that is in `tools`. */
export type ToolChoice = 'none' | 'auto' | 'required' | { name: string };

export interface ChatCompletionParams extends GenerationParams {
  messages: ValidatedChatMessage[];
  /** null when absent or empty. */
  tools: ChatCompletionTool[] | null;
  toolChoice: ToolChoice;
  /** Structured output: the grammar of response_format or of a forced tool call (null: free). */
  grammar: GrammarRequest | null;
  /** Seed-OSS thinking budget: -1 unlimited, 0 no thinking; undefined when not given. */
  thinkingBudget?: number;
  /** Extra template variables, thinking_budget removed (it is `thinkingBudget`). */
  chatTemplateKwargs: JsonObject | null;
}

function readToolChoice(f: FieldReader, tools: ChatCompletionTool[] | null): ToolChoice {
  const value = f.raw('tool_choice');
  if (value === undefined) return tools === null ? 'none' : 'auto';
  if (typeof value === 'string') {
    if (value !== 'none' && value !== 'auto' && value !== 'required') {
      throw OpenAiError.invalid(`'tool_choice' must be 'none', 'auto', 'required' or a named function, got ${JSON.stringify(value)}`, 'tool_choice', 'invalid_value');
    }
    if (value === 'required' && tools === null) {
      throw OpenAiError.invalid("'tool_choice' is 'required' but no 'tools' were given", 'tool_choice', 'invalid_value');
    }
    return value === 'auto' && tools === null ? 'none' : value;
  }
  if (!isObject(value)) throw OpenAiError.invalid(`'tool_choice' must be a string or an object, got ${typeName(value)}`, 'tool_choice', 'invalid_type');
  const fn = value.function;
  const name = isObject(fn) ? fn.name : undefined;
  if (value.type !== 'function' || typeof name !== 'string') {
    throw OpenAiError.invalid("'tool_choice' must look like {\"type\": \"function\", \"function\": {\"name\": \"...\"}}", 'tool_choice', 'invalid_value');
  }
  if (!tools?.some((t) => t.function.name === name)) {
    throw OpenAiError.invalid(`'tool_choice' names the function '${name}', which is not in 'tools'`, 'tool_choice', 'invalid_value');
  }
  return { name };
}

function readThinkingBudget(value: unknown, param: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number.parseInt(value, 10) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < -1) {
    throw OpenAiError.invalid(`'${param}' must be an integer >= 0, or -1 for unlimited, got ${JSON.stringify(value)}`, param, 'invalid_value');
  }
  return n;
}

export function validateChatCompletionRequest(body: unknown, limits: ValidationLimits = {}): ChatCompletionParams {
  if (!isObject(body)) throw OpenAiError.invalid(`The request body must be a JSON object, got ${typeName(body)}`, null, 'invalid_type');
  const f = new FieldReader(body);
  const base = readGenerationParams(f, limits);
  const messages = readMessages(f);
  const tools = readTools(f);
  const toolChoice = readToolChoice(f, tools);
  f.bool('parallel_tool_calls');
  const grammar = readGrammarRequest(f.raw('response_format'), tools, toolChoice);

  const logprobs = f.bool('logprobs') ?? false;
  const topLogprobs = f.int('top_logprobs', { min: 0, max: MAX_TOP_LOGPROBS });
  if (topLogprobs !== undefined && !logprobs) {
    throw OpenAiError.invalid("'top_logprobs' requires 'logprobs' to be true", 'top_logprobs', 'invalid_value');
  }

  const kwargs = f.object('chat_template_kwargs');
  const { thinking_budget: kwargsBudget, ...otherKwargs } = kwargs ?? {};
  const kwargsValue = readThinkingBudget(kwargsBudget, 'chat_template_kwargs.thinking_budget');
  const thinkingBudget = readThinkingBudget(f.raw('thinking_budget'), 'thinking_budget') ?? kwargsValue;
  return {
    ...base,
    messages,
    tools,
    toolChoice,
    grammar,
    thinkingBudget,
    chatTemplateKwargs: kwargs === undefined ? null : otherKwargs,
    numTopLogprobs: logprobs ? (topLogprobs ?? 0) : -1,
  };
}
