// Validates a POST /v1/chat/completions body into ChatCompletionParams, or throws a 400
// OpenAiError naming the parameter. Model existence and context length are checked by the server
// (they need the model); everything that needs only the body is checked here.
// Tests: request-validators.spec.ts.
import { MESSAGES_SCHEMA, readMessages, readTools, TOOLS_SCHEMA, type ValidatedChatMessage } from './chat-messages.validator';
import { GENERATION_FIELDS, MAX_TOP_LOGPROBS, readGenerationParams, type GenerationParams, type ValidationLimits } from './generation-params';
import { OpenAiError } from './openai-error';
import { bodyChecker, given, isObject, optional, type FieldSchemas, type JsonObject } from './request-schema';
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
  /** false: at most one tool call is returned (OpenAI's parallel_tool_calls). */
  parallelToolCalls: boolean;
  /** Structured output: the grammar of response_format or of a forced tool call (null: free). */
  grammar: GrammarRequest | null;
  /** Seed-OSS thinking budget: -1 unlimited, 0 no thinking; undefined when not given. */
  thinkingBudget?: number;
  /** Extra template variables, thinking_budget removed (it is `thinkingBudget`). */
  chatTemplateKwargs: JsonObject | null;
}

/**
 * The fields of a chat body: one schema per field (add a field's schema here; its meaning goes in
 * validateChatCompletionRequest). tool_choice and response_format take their shape here and their
 * rules below.
 */
export const CHAT_FIELDS: FieldSchemas = {
  ...GENERATION_FIELDS,
  messages: MESSAGES_SCHEMA,
  tools: TOOLS_SCHEMA,
  tool_choice: optional({ type: ['string', 'object'] }),
  parallel_tool_calls: optional({ type: 'boolean' }),
  response_format: optional({ type: 'object' }),
  logprobs: optional({ type: 'boolean' }),
  top_logprobs: optional({ type: 'integer', minimum: 0, maximum: MAX_TOP_LOGPROBS }),
  chat_template_kwargs: optional({ type: 'object' }),
};
const checkChatBody = bodyChecker(CHAT_FIELDS);

function readToolChoice(body: JsonObject, tools: ChatCompletionTool[] | null): ToolChoice {
  const value = given<string | JsonObject>(body, 'tool_choice');
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
  const b = checkChatBody(body);
  const base = readGenerationParams(b, limits);
  const messages = readMessages(b);
  const tools = readTools(b);
  const toolChoice = readToolChoice(b, tools);
  const grammar = readGrammarRequest(b.response_format, tools, toolChoice);

  const logprobs = given<boolean>(b, 'logprobs') ?? false;
  const topLogprobs = given<number>(b, 'top_logprobs');
  if (topLogprobs !== undefined && !logprobs) {
    throw OpenAiError.invalid("'top_logprobs' requires 'logprobs' to be true", 'top_logprobs', 'invalid_value');
  }

  const kwargs = given<JsonObject>(b, 'chat_template_kwargs');
  const { thinking_budget: kwargsBudget, ...otherKwargs } = kwargs ?? {};
  const kwargsValue = readThinkingBudget(kwargsBudget, 'chat_template_kwargs.thinking_budget');
  const thinkingBudget = readThinkingBudget(given(b, 'thinking_budget'), 'thinking_budget') ?? kwargsValue;
  return {
    ...base,
    messages,
    tools,
    toolChoice,
    parallelToolCalls: given<boolean>(b, 'parallel_tool_calls') ?? true,
    grammar,
    thinkingBudget,
    chatTemplateKwargs: kwargs === undefined ? null : otherKwargs,
    numTopLogprobs: logprobs ? (topLogprobs ?? 0) : -1,
  };
}
