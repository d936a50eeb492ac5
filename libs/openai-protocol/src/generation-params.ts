// The request fields chat and completions share (model, token limits, sampling, stop, n, stream),
// read into one validated GenerationParams. Ranges follow OpenAI where it defines them and vLLM
// for its extensions (top_k, min_p, repetition_penalty, min_tokens, ignore_eos, stop_token_ids,
// include_stop_str_in_output, priority, stream_options.continuous_usage_stats).
import { OpenAiError } from './openai-error';
import { given, objectOf, optional, type FieldSchemas, type JsonObject } from './request-schema';

export const MAX_N = 16;
export const MAX_STOP_STRINGS = 16;
export const MAX_STOP_STRING_LENGTH = 1024;
export const MAX_STOP_TOKEN_IDS = 256;
export const MAX_TOP_LOGPROBS = 20;

export interface GenerationParams {
  model: string;
  /** max_completion_tokens ?? max_tokens; undefined: whatever room the context leaves. */
  maxTokens?: number;
  /** Which field set maxTokens (for error messages). */
  maxTokensParam: 'max_tokens' | 'max_completion_tokens';
  minTokens: number;
  temperature: number;
  topP: number;
  /** -1: off. */
  topK: number;
  minP: number;
  presencePenalty: number;
  frequencyPenalty: number;
  repetitionPenalty: number;
  seed?: number;
  stop: string[];
  stopTokenIds: number[];
  n: number;
  stream: boolean;
  includeUsage: boolean;
  /** vLLM's stream_options.continuous_usage_stats: usage on every chunk (with include_usage). */
  continuousUsageStats: boolean;
  /** vLLM's include_stop_str_in_output: the matched stop string stays in the text. */
  includeStopStrInOutput: boolean;
  /** Scheduling priority (vLLM): lower runs first; 0 by default. */
  priority: number;
  ignoreEos: boolean;
  user?: string;
  /** -1: no logprobs; 0: the chosen token's only; k: and the top k. */
  numTopLogprobs: number;
}

/** Limits known only to the server (vocabulary size). */
export interface ValidationLimits {
  vocabSize?: number;
}

const int = (range: { minimum?: number; maximum?: number } = {}) => optional({ type: 'integer', ...range });
const num = (range: Record<string, number>) => optional({ type: 'number', ...range });
const bool = optional({ type: 'boolean' });

/** The schemas of the fields chat and completions share (each endpoint adds its own). */
export const GENERATION_FIELDS: FieldSchemas = {
  model: optional({ type: 'string' }),
  max_tokens: int({ minimum: 1 }),
  max_completion_tokens: int({ minimum: 1 }),
  min_tokens: int({ minimum: 0 }),
  temperature: num({ minimum: 0, maximum: 2 }),
  top_p: num({ exclusiveMinimum: 0, maximum: 1 }),
  top_k: int({ minimum: -1 }),
  min_p: num({ minimum: 0, maximum: 1 }),
  presence_penalty: num({ minimum: -2, maximum: 2 }),
  frequency_penalty: num({ minimum: -2, maximum: 2 }),
  repetition_penalty: num({ exclusiveMinimum: 0, maximum: 2 }),
  seed: int({ minimum: -(2 ** 63), maximum: 2 ** 64 - 1 }),
  stop: optional({ type: ['string', 'array'], maxLength: MAX_STOP_STRING_LENGTH, maxItems: MAX_STOP_STRINGS, items: { type: 'string', maxLength: MAX_STOP_STRING_LENGTH } }),
  stop_token_ids: optional({ type: 'array', maxItems: MAX_STOP_TOKEN_IDS, items: { type: 'integer', minimum: 0 } }),
  n: int({ minimum: 1, maximum: MAX_N }),
  stream: bool,
  stream_options: optional(objectOf({ include_usage: bool, continuous_usage_stats: bool })),
  ignore_eos: bool,
  include_stop_str_in_output: bool,
  priority: int({ minimum: -(2 ** 31), maximum: 2 ** 31 - 1 }),
  logit_bias: optional({ type: 'object' }),
  user: optional({ type: 'string', maxLength: 256 }),
};

export function readModel(body: JsonObject): string {
  const model = given<string>(body, 'model');
  if (model === undefined) throw OpenAiError.invalid("'model' is required", 'model', 'missing_required_parameter');
  return model;
}

function checkStopTokenIds(ids: number[], limits: ValidationLimits): number[] {
  const max = limits.vocabSize === undefined ? undefined : limits.vocabSize - 1;
  ids.forEach((id, i) => {
    if (max !== undefined && id > max) {
      throw OpenAiError.invalid(`'stop_token_ids[${i}]' must be an integer token id in [0, ${max}], got ${id}`, 'stop_token_ids', 'invalid_value');
    }
  });
  return ids;
}

function normalizeSeed(seed: number): number {
  // the engine takes an unsigned 53-bit seed; negative seeds (allowed by OpenAI) wrap around
  const span = 2 ** 53;
  return ((seed % span) + span) % span;
}

/** Reads the shared fields of a body its endpoint's checker accepted; `numTopLogprobs` is left at -1. */
export function readGenerationParams(body: JsonObject, limits: ValidationLimits = {}): GenerationParams {
  const get = <T>(name: string): T | undefined => given<T>(body, name);
  const model = readModel(body);
  const stream = get<boolean>('stream') ?? false;
  const streamOptions = get<JsonObject>('stream_options');
  if (streamOptions !== undefined && !stream) {
    throw OpenAiError.invalid("'stream_options' is only allowed when 'stream' is true", 'stream_options', 'invalid_value');
  }
  const includeUsage = (streamOptions && given<boolean>(streamOptions, 'include_usage')) ?? false;
  const logitBias = get<JsonObject>('logit_bias');
  if (logitBias !== undefined && Object.keys(logitBias).length > 0) {
    throw OpenAiError.invalid("'logit_bias' is not supported by this server", 'logit_bias', 'unsupported_parameter');
  }
  const completionTokens = get<number>('max_completion_tokens');
  const topK = get<number>('top_k') ?? -1;
  const seed = get<number>('seed');
  const stop = get<string | string[]>('stop') ?? [];
  return {
    model,
    maxTokens: completionTokens ?? get<number>('max_tokens'),
    maxTokensParam: completionTokens !== undefined ? 'max_completion_tokens' : 'max_tokens',
    minTokens: get<number>('min_tokens') ?? 0,
    temperature: get<number>('temperature') ?? 1,
    topP: get<number>('top_p') ?? 1,
    topK: topK === 0 ? -1 : topK,
    minP: get<number>('min_p') ?? 0,
    presencePenalty: get<number>('presence_penalty') ?? 0,
    frequencyPenalty: get<number>('frequency_penalty') ?? 0,
    repetitionPenalty: get<number>('repetition_penalty') ?? 1,
    seed: seed === undefined ? undefined : normalizeSeed(seed),
    stop: (typeof stop === 'string' ? [stop] : stop).filter((s) => s.length > 0),
    stopTokenIds: checkStopTokenIds(get<number[]>('stop_token_ids') ?? [], limits),
    n: get<number>('n') ?? 1,
    stream,
    includeUsage,
    continuousUsageStats: includeUsage && ((streamOptions && given<boolean>(streamOptions, 'continuous_usage_stats')) ?? false),
    includeStopStrInOutput: get<boolean>('include_stop_str_in_output') ?? false,
    priority: get<number>('priority') ?? 0,
    ignoreEos: get<boolean>('ignore_eos') ?? false,
    user: get<string>('user'),
    numTopLogprobs: -1,
  };
}
