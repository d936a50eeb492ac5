// The scheduler's typed errors as API answers: a full waiting queue is 429 with Retry-After,
// a context overflow 400 context_length_exceeded, any other SchedulerError 400.
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import { ContextLengthExceededError, QueueFullError, SchedulerError } from '../../../../libs/scheduler/src/errors';

export function schedulerErrorToOpenAi(err: unknown): OpenAiError {
  if (err instanceof OpenAiError) return err;
  if (err instanceof QueueFullError) {
    return new OpenAiError(429, `The server is overloaded: ${err.message}. Retry later.`, null, 'queue_full', { headers: { 'Retry-After': '1' } });
  }
  if (err instanceof ContextLengthExceededError) {
    return OpenAiError.invalid(
      `This model's maximum context length is ${err.maxModelLen} tokens. However, you requested ${err.numPromptTokens + err.maxTokens} tokens ` +
        `(${err.numPromptTokens} in the messages, ${err.maxTokens} in the completion). Please reduce the length of the messages or completion.`,
      'messages',
      'context_length_exceeded',
    );
  }
  if (err instanceof SchedulerError) return OpenAiError.invalid(err.message);
  return new OpenAiError(500, err instanceof Error ? err.message : String(err));
}
