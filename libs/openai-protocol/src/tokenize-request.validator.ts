// Validates vLLM's POST /tokenize and /detokenize bodies. /tokenize takes either a `prompt`
// (add_special_tokens default true) or chat `messages` (+ tools, add_generation_prompt default
// true, chat_template_kwargs; add_special_tokens default false: the template wrote them);
// return_token_strs adds each token's vocabulary string. /detokenize takes `tokens`.
// `model` is optional (vLLM's shape). Tests: tokenize-request.validator.spec.ts.
import { readMessages, readTools, type ValidatedChatMessage } from './chat-messages.validator';
import type { ValidationLimits } from './generation-params';
import { OpenAiError } from './openai-error';
import { FieldReader, isObject, typeName, type JsonObject } from './request-fields';
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

function bodyReader(body: unknown): FieldReader {
  if (!isObject(body)) throw OpenAiError.invalid(`The request body must be a JSON object, got ${typeName(body)}`, null, 'invalid_type');
  return new FieldReader(body);
}

export function validateTokenizeRequest(body: unknown): TokenizeParams {
  const f = bodyReader(body);
  const model = f.string('model');
  const returnTokenStrs = f.bool('return_token_strs') ?? false;
  if (f.has('messages')) {
    if (f.has('prompt')) throw OpenAiError.invalid("give either 'prompt' or 'messages', not both", 'prompt', 'invalid_value');
    return {
      kind: 'chat', model, returnTokenStrs,
      messages: readMessages(f),
      tools: readTools(f),
      addGenerationPrompt: f.bool('add_generation_prompt') ?? true,
      addSpecialTokens: f.bool('add_special_tokens') ?? false,
      chatTemplateKwargs: f.object('chat_template_kwargs') ?? null,
    };
  }
  const prompt = f.string('prompt');
  if (prompt === undefined) throw OpenAiError.invalid("'prompt' or 'messages' is required", 'prompt', 'missing_required_parameter');
  return { kind: 'prompt', model, returnTokenStrs, prompt, addSpecialTokens: f.bool('add_special_tokens') ?? true };
}

export function validateDetokenizeRequest(body: unknown, limits: ValidationLimits = {}): DetokenizeParams {
  const f = bodyReader(body);
  const model = f.string('model');
  const list = f.array('tokens');
  if (list === undefined) throw OpenAiError.invalid("'tokens' is required", 'tokens', 'missing_required_parameter');
  const max = limits.vocabSize === undefined ? Number.MAX_SAFE_INTEGER : limits.vocabSize - 1;
  const tokens = list.map((id, i) => {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || id > max) {
      throw OpenAiError.invalid(`'tokens[${i}]' must be a token id in [0, ${max}], got ${JSON.stringify(id)}`, 'tokens', 'invalid_value');
    }
    return id;
  });
  return { model, tokens };
}
