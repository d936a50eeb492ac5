// The request fields chat and completions share (model, token limits, sampling, stop, n, stream),
// read into one validated GenerationParams. Ranges follow OpenAI where it defines them and vLLM
// for its extensions (top_k, min_p, repetition_penalty, min_tokens, ignore_eos, stop_token_ids,
// include_stop_str_in_output, priority, stream_options.continuous_usage_stats).
import { OpenAiError } from './openai-error';
import { FieldReader } from './request-fields';

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

export function readModel(f: FieldReader): string {
  const model = f.raw('model');
  if (model === undefined) throw OpenAiError.invalid("'model' is required", 'model', 'missing_required_parameter');
  if (typeof model !== 'string') throw f.typeError('model', 'a string', model);
  return model;
}

function readMaxTokens(f: FieldReader): Pick<GenerationParams, 'maxTokens' | 'maxTokensParam'> {
  const completion = f.int('max_completion_tokens', { min: 1 });
  const legacy = f.int('max_tokens', { min: 1 });
  if (completion !== undefined) return { maxTokens: completion, maxTokensParam: 'max_completion_tokens' };
  return { maxTokens: legacy, maxTokensParam: 'max_tokens' };
}

function readStopTokenIds(f: FieldReader, limits: ValidationLimits): number[] {
  const list = f.array('stop_token_ids', { maxItems: MAX_STOP_TOKEN_IDS }) ?? [];
  return list.map((id, i) => {
    const max = limits.vocabSize === undefined ? undefined : limits.vocabSize - 1;
    const param = f.param('stop_token_ids');
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || (max !== undefined && id > max)) {
      const range = max === undefined ? 'a non-negative integer' : `an integer token id in [0, ${max}]`;
      throw OpenAiError.invalid(`'${param}[${i}]' must be ${range}, got ${JSON.stringify(id)}`, param, 'invalid_value');
    }
    return id;
  });
}

function normalizeSeed(seed: number): number {
  // the engine takes an unsigned 53-bit seed; negative seeds (allowed by OpenAI) wrap around
  const span = 2 ** 53;
  return ((seed % span) + span) % span;
}

/** Reads the shared fields; `numTopLogprobs` is left at -1 for the endpoint to set. */
export function readGenerationParams(f: FieldReader, limits: ValidationLimits = {}): GenerationParams {
  const model = readModel(f);
  const stream = f.bool('stream') ?? false;
  const streamOptions = f.object('stream_options');
  if (streamOptions !== undefined && !stream) {
    throw OpenAiError.invalid("'stream_options' is only allowed when 'stream' is true", 'stream_options', 'invalid_value');
  }
  const streamOptionsReader = streamOptions === undefined ? undefined : new FieldReader(streamOptions, 'stream_options');
  const includeUsage = streamOptionsReader?.bool('include_usage') ?? false;
  const continuousUsageStats = streamOptionsReader?.bool('continuous_usage_stats') ?? false;
  const topK = f.int('top_k', { min: -1 }) ?? -1;
  const seed = f.int('seed', { min: -(2 ** 63), max: 2 ** 64 - 1 });
  const logitBias = f.object('logit_bias');
  if (logitBias !== undefined && Object.keys(logitBias).length > 0) {
    throw OpenAiError.invalid("'logit_bias' is not supported by this server", 'logit_bias', 'unsupported_parameter');
  }
  const user = f.string('user', { maxLength: 256 });
  return {
    model,
    ...readMaxTokens(f),
    minTokens: f.int('min_tokens', { min: 0 }) ?? 0,
    temperature: f.number('temperature', { min: 0, max: 2 }) ?? 1,
    topP: f.number('top_p', { min: 0, max: 1, minExclusive: true }) ?? 1,
    topK: topK === 0 ? -1 : topK,
    minP: f.number('min_p', { min: 0, max: 1 }) ?? 0,
    presencePenalty: f.number('presence_penalty', { min: -2, max: 2 }) ?? 0,
    frequencyPenalty: f.number('frequency_penalty', { min: -2, max: 2 }) ?? 0,
    repetitionPenalty: f.number('repetition_penalty', { min: 0, max: 2, minExclusive: true }) ?? 1,
    seed: seed === undefined ? undefined : normalizeSeed(seed),
    stop: (f.stringList('stop', { maxItems: MAX_STOP_STRINGS, maxLength: MAX_STOP_STRING_LENGTH }) ?? []).filter((s) => s.length > 0),
    stopTokenIds: readStopTokenIds(f, limits),
    n: f.int('n', { min: 1, max: MAX_N }) ?? 1,
    stream,
    includeUsage,
    continuousUsageStats: includeUsage && continuousUsageStats,
    includeStopStrInOutput: f.bool('include_stop_str_in_output') ?? false,
    priority: f.int('priority', { min: -(2 ** 31), max: 2 ** 31 - 1 }) ?? 0,
    ignoreEos: f.bool('ignore_eos') ?? false,
    user,
    numTopLogprobs: -1,
  };
}
