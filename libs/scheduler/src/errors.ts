// Typed errors of the scheduler, so the API layer can map them to HTTP answers
// (QueueFullError -> 429, ContextLengthExceededError and InvalidRequestError -> 400).

/** Base class of every error the scheduler throws on purpose. */
export class SchedulerError extends Error {
  override readonly name: string = 'SchedulerError';
}

/** The bounded waiting queue is full; the caller should answer 429 and retry later. */
export class QueueFullError extends SchedulerError {
  override readonly name = 'QueueFullError';
  constructor(readonly maxWaiting: number) {
    super(`the waiting queue is full (${maxWaiting} requests)`);
  }
}

/** Prompt tokens + max tokens exceed the model's context length. */
export class ContextLengthExceededError extends SchedulerError {
  override readonly name = 'ContextLengthExceededError';
  constructor(
    readonly numPromptTokens: number,
    readonly maxTokens: number,
    readonly maxModelLen: number,
  ) {
    super(`prompt (${numPromptTokens} tokens) + max tokens (${maxTokens}) exceed the context length (${maxModelLen})`);
  }
}

/** A malformed request (empty prompt, duplicate id, bad limits). */
export class InvalidRequestError extends SchedulerError {
  override readonly name = 'InvalidRequestError';
}
