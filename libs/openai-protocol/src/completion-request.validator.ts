// Validates a POST /v1/completions body into CompletionParams, or throws a 400 OpenAiError.
// `prompt` is a string, an array of token ids, or a one-element array of either (one prompt per
// request). `logprobs` is an integer 0..20 here (the number of top alternatives), as in OpenAI.
// Tests: request-validators.spec.ts.
import { GENERATION_FIELDS, MAX_TOP_LOGPROBS, readGenerationParams, type GenerationParams, type ValidationLimits } from './generation-params';
import { OpenAiError } from './openai-error';
import { bodyChecker, given, optional, typeName, type FieldSchemas, type JsonObject } from './request-schema';

export interface CompletionParams extends GenerationParams {
  /** The prompt text, or its token ids when given as tokens. */
  prompt: string | number[];
}

function isTokenArray(value: unknown[]): boolean {
  return value.length > 0 && value.every((v) => typeof v === 'number');
}

/** The fields of a completions body (the prompt's shapes are checked in readPrompt). */
export const COMPLETION_FIELDS: FieldSchemas = {
  ...GENERATION_FIELDS,
  logprobs: optional({ type: 'integer', minimum: 0, maximum: MAX_TOP_LOGPROBS }),
  echo: optional({ type: 'boolean' }),
  best_of: optional({ type: 'integer', minimum: 1 }),
  suffix: optional({ type: 'string' }),
};
const checkCompletionBody = bodyChecker(COMPLETION_FIELDS);

function readPrompt(body: JsonObject, limits: ValidationLimits): string | number[] {
  let value = given<unknown>(body, 'prompt');
  if (value === undefined) throw OpenAiError.invalid("'prompt' is required", 'prompt', 'missing_required_parameter');
  if (Array.isArray(value) && value.length === 1 && (typeof value[0] === 'string' || Array.isArray(value[0]))) value = value[0];
  if (typeof value === 'string') {
    if (value.length === 0) throw OpenAiError.invalid("'prompt' must not be empty", 'prompt', 'invalid_value');
    return value;
  }
  if (!Array.isArray(value)) throw OpenAiError.invalid(`'prompt' must be a string or an array of token ids, got ${typeName(value)}`, 'prompt', 'invalid_type');
  if (value.length === 0) throw OpenAiError.invalid("'prompt' must not be empty", 'prompt', 'invalid_value');
  if (!isTokenArray(value)) {
    if (value.every((v) => typeof v === 'string' || Array.isArray(v))) {
      throw OpenAiError.invalid('only one prompt per request is supported; send the prompts as separate requests', 'prompt', 'invalid_value');
    }
    throw OpenAiError.invalid("'prompt' must be a string or an array of token ids", 'prompt', 'invalid_type');
  }
  const max = limits.vocabSize === undefined ? Number.MAX_SAFE_INTEGER : limits.vocabSize - 1;
  (value as number[]).forEach((id, i) => {
    if (!Number.isSafeInteger(id) || id < 0 || id > max) {
      throw OpenAiError.invalid(`'prompt[${i}]' must be a token id in [0, ${max}], got ${id}`, 'prompt', 'invalid_value');
    }
  });
  return value as number[];
}

export function validateCompletionRequest(body: unknown, limits: ValidationLimits = {}): CompletionParams {
  const b = checkCompletionBody(body);
  const base = readGenerationParams(b, limits);
  const prompt = readPrompt(b, limits);
  if (given(b, 'echo')) throw OpenAiError.invalid("'echo' is not supported by this server", 'echo', 'unsupported_parameter');
  const bestOf = given<number>(b, 'best_of');
  if (bestOf !== undefined && bestOf !== base.n) throw OpenAiError.invalid("'best_of' is not supported (it must equal 'n')", 'best_of', 'unsupported_parameter');
  if (given(b, 'suffix')) throw OpenAiError.invalid("'suffix' is not supported by this server", 'suffix', 'unsupported_parameter');
  return { ...base, prompt, numTopLogprobs: given<number>(b, 'logprobs') ?? -1 };
}
