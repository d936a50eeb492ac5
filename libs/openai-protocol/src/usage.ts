// The `usage` object of a response or chunk, from the prompt and completion token counts.
import type { Usage } from './chat-completion.types';

export function usageOf(numPromptTokens: number, numCompletionTokens: number): Usage {
  return { prompt_tokens: numPromptTokens, completion_tokens: numCompletionTokens, total_tokens: numPromptTokens + numCompletionTokens };
}
