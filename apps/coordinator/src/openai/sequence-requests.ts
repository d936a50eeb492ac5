// From validated OpenAI parameters to the engine's per-sequence requests: the context-length
// check (prompt + max tokens <= max_model_len, a 400 naming the parameter), the engine's
// sampling params, and n sequences sharing the prompt (seed + i for choice i, as vLLM does).
import type { SamplingParams } from '../../../../libs/native/src/types';
import type { GenerationParams } from '../../../../libs/openai-protocol/src/generation-params';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import type { SequenceRequest, TokenForcer } from '../engine/engine-request';

export function checkContextLength(numPromptTokens: number, params: GenerationParams, maxModelLen: number, promptParam: string): void {
  if (numPromptTokens === 0) throw OpenAiError.invalid('The prompt is empty after tokenization', promptParam, 'invalid_value');
  if (params.maxTokens === undefined) {
    if (numPromptTokens >= maxModelLen) {
      throw OpenAiError.invalid(
        `This model's maximum context length is ${maxModelLen} tokens. However, your prompt has ${numPromptTokens} tokens, leaving no room for the completion.`,
        promptParam,
        'context_length_exceeded',
      );
    }
    return;
  }
  if (numPromptTokens + params.maxTokens > maxModelLen) {
    throw OpenAiError.invalid(
      `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${numPromptTokens + params.maxTokens} tokens ` +
        `(${numPromptTokens} in the prompt, ${params.maxTokens} for the completion). Please reduce the prompt or '${params.maxTokensParam}'.`,
      params.maxTokensParam,
      'context_length_exceeded',
    );
  }
}

export function samplingParams(params: GenerationParams, choiceIndex: number): SamplingParams {
  return {
    temperature: params.temperature,
    topK: params.topK,
    topP: params.topP,
    minP: params.minP,
    repetitionPenalty: params.repetitionPenalty,
    presencePenalty: params.presencePenalty,
    frequencyPenalty: params.frequencyPenalty,
    ...(params.seed === undefined ? {} : { seed: (params.seed + choiceIndex) % 2 ** 53 }),
    numTopLogprobs: params.numTopLogprobs,
  };
}

export function sequenceRequests(
  params: GenerationParams,
  promptTokens: number[],
  options: { timeoutMs: number; forcer?: () => TokenForcer | undefined },
): Array<Omit<SequenceRequest, 'listener'>> {
  const deadlineMs = options.timeoutMs > 0 ? Date.now() + options.timeoutMs : undefined;
  return Array.from({ length: params.n }, (_, i) => ({
    promptTokens,
    params: samplingParams(params, i),
    maxTokens: params.maxTokens,
    minTokens: params.minTokens,
    stopTokenIds: params.stopTokenIds,
    ignoreEos: params.ignoreEos,
    priority: params.priority,
    deadlineMs,
    forcer: options.forcer?.(),
  }));
}

/** The tokens a request may use at most: the prompt once, plus max tokens for each choice. */
export function tokensToReserve(numPromptTokens: number, params: GenerationParams, maxModelLen: number): number {
  return numPromptTokens + params.n * (params.maxTokens ?? maxModelLen - numPromptTokens);
}
