// Validates vLLM's POST /tokenize and /detokenize bodies. /tokenize takes either a `prompt`
// (add_special_tokens default true) or chat `messages` (+ tools, add_generation_prompt default
// true, chat_template_kwargs; add_special_tokens default false: the template wrote them);
// return_token_strs adds each token's vocabulary string. /detokenize takes `tokens`.
// `model` is optional (vLLM's shape). Tests: tokenize-request.validator.spec.ts.
import { MESSAGES_SCHEMA, readMessages, readTools, TOOLS_SCHEMA, type ValidatedChatMessage } from './chat-messages.validator';
import type { ValidationLimits } from './generation-params';
import { OpenAiError } from './openai-error';
import { bodyChecker, given, optional, type JsonObject } from './request-schema';
import type { ChatCompletionTool } from './tool-call.types';

interface TokenizeCommon {
  model?: string;
  addSpecialTokens: boolean;
  returnTokenStrs: boolean;
}

export interface TokenizePromptParams extends TokenizeCommon {
  kind: 'prompt';
  prompt: string;
}

export interface TokenizeChatParams extends TokenizeCommon {
  kind: 'chat';
  messages: ValidatedChatMessage[];
  tools: ChatCompletionTool[] | null;
  addGenerationPrompt: boolean;
  chatTemplateKwargs: JsonObject | null;
}

export type TokenizeParams = TokenizePromptParams | TokenizeChatParams;

export interface DetokenizeParams {
  model?: string;
  tokens: number[];
}

const bool = optional({ type: 'boolean' });
const checkTokenizeBody = bodyChecker({
  model: optional({ type: 'string' }),
  prompt: optional({ type: 'string' }),
  messages: MESSAGES_SCHEMA,
  tools: TOOLS_SCHEMA,
  add_special_tokens: bool,
  add_generation_prompt: bool,
  return_token_strs: bool,
  chat_template_kwargs: optional({ type: 'object' }),
});
const checkDetokenizeBody = bodyChecker({
  model: optional({ type: 'string' }),
  tokens: optional({ type: 'array', items: { type: 'integer', minimum: 0 } }),
});

export function validateTokenizeRequest(body: unknown): TokenizeParams {
  const b = checkTokenizeBody(body);
  const model = given<string>(b, 'model');
  const returnTokenStrs = given<boolean>(b, 'return_token_strs') ?? false;
  if (given(b, 'messages') !== undefined) {
    if (given(b, 'prompt') !== undefined) throw OpenAiError.invalid("give either 'prompt' or 'messages', not both", 'prompt', 'invalid_value');
    return {
      kind: 'chat', model, returnTokenStrs,
      messages: readMessages(b),
      tools: readTools(b),
      addGenerationPrompt: given<boolean>(b, 'add_generation_prompt') ?? true,
      addSpecialTokens: given<boolean>(b, 'add_special_tokens') ?? false,
      chatTemplateKwargs: given<JsonObject>(b, 'chat_template_kwargs') ?? null,
    };
  }
  const prompt = given<string>(b, 'prompt');
  if (prompt === undefined) throw OpenAiError.invalid("'prompt' or 'messages' is required", 'prompt', 'missing_required_parameter');
  return { kind: 'prompt', model, returnTokenStrs, prompt, addSpecialTokens: given<boolean>(b, 'add_special_tokens') ?? true };
}

export function validateDetokenizeRequest(body: unknown, limits: ValidationLimits = {}): DetokenizeParams {
  const b = checkDetokenizeBody(body);
  const tokens = given<number[]>(b, 'tokens');
  if (tokens === undefined) throw OpenAiError.invalid("'tokens' is required", 'tokens', 'missing_required_parameter');
  const max = limits.vocabSize === undefined ? Number.MAX_SAFE_INTEGER : limits.vocabSize - 1;
  tokens.forEach((id, i) => {
    if (id > max) throw OpenAiError.invalid(`'tokens[${i}]' must be a token id in [0, ${max}], got ${id}`, 'tokens', 'invalid_value');
  });
  return { model: given<string>(b, 'model'), tokens };
}
