// ChatPrompt: a validated chat request rendered with the model's chat template and tokenized.
// tool_choice "none" renders without tools (and nothing is parsed as a call). A forced
// tool_choice has no guided decoding here: the server starts the call in the prompt itself —
// `<seed:tool_call>\n<function=NAME>` for a named function, `<seed:tool_call>\n<function=` for
// "required" — and the parsers see that opening as if generated (textPrefix). A think block the
// template left open (budget 0) is closed first in the model's words, so the call is an answer.
import { BUDGET_REFLECT_END, FUNCTION_PREFIX, THINK_END, TOOL_CALL_START } from '../../../../libs/chat-parsers/src/seed-tags';
import { promptOpensReasoning } from '../../../../libs/chat-parsers/src/seed-reasoning-parser';
import { ChatTemplateInputError, type ChatMessage, type ChatTool } from '../../../../libs/chat-template/src/chat-messages';
import type { ChatTemplateRequest, ChatTemplateRenderer } from '../../../../libs/chat-template/src/chat-template-renderer';
import type { ChatCompletionParams } from '../../../../libs/openai-protocol/src/chat-completion-request.validator';
import type { ValidatedChatMessage } from '../../../../libs/openai-protocol/src/chat-messages.validator';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import type { ChatCompletionTool } from '../../../../libs/openai-protocol/src/tool-call.types';
import type { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';
import { BUDGET_EXHAUSTED_TEXT } from '../generation/thinking-budget';

export interface ChatPrompt {
  /** The rendered prompt, forced tool-call opening included. */
  text: string;
  tokens: number[];
  /** Generation already in the prompt that the parsers must see (forced tool-call opening). */
  textPrefix: string;
  startsInReasoning: boolean;
  parseToolCalls: boolean;
}

function forcedToolPrefix(params: ChatCompletionParams): string {
  if (params.toolChoice === 'required') return `${TOOL_CALL_START}\n${FUNCTION_PREFIX}`;
  if (typeof params.toolChoice === 'object') return `${TOOL_CALL_START}\n${FUNCTION_PREFIX}${params.toolChoice.name}>`;
  return '';
}

function closeOpenThinking(rendered: string): string {
  if (!promptOpensReasoning(rendered)) return '';
  const reflectOpen = rendered.lastIndexOf('<seed:cot_budget_reflect>') > rendered.lastIndexOf(BUDGET_REFLECT_END);
  return (reflectOpen ? BUDGET_EXHAUSTED_TEXT + BUDGET_REFLECT_END : '') + THINK_END;
}

/** Renders validated messages with the chat template; a template error is a 400 on 'messages'. */
export function renderChat(
  renderer: ChatTemplateRenderer,
  request: Omit<ChatTemplateRequest, 'messages' | 'tools'> & { messages: ValidatedChatMessage[]; tools: ChatCompletionTool[] | null },
): string {
  try {
    return renderer.render({ ...request, messages: request.messages as unknown as ChatMessage[], tools: request.tools as unknown as ChatTool[] | null });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof ChatTemplateInputError) throw OpenAiError.invalid(message, 'messages', 'invalid_value');
    throw OpenAiError.invalid(`The chat template could not render these messages: ${message}`, 'messages', 'invalid_value');
  }
}

export function buildChatPrompt(renderer: ChatTemplateRenderer, tokenizer: Tokenizer, params: ChatCompletionParams): ChatPrompt {
  const useTools = params.toolChoice !== 'none' && params.tools !== null;
  const rendered = renderChat(renderer, {
    messages: params.messages,
    tools: useTools ? params.tools : null,
    thinkingBudget: params.thinkingBudget,
    chatTemplateKwargs: params.chatTemplateKwargs,
  });
  const toolPrefix = useTools ? forcedToolPrefix(params) : '';
  const text = rendered + (toolPrefix ? closeOpenThinking(rendered) + toolPrefix : '');
  return {
    text,
    tokens: tokenizer.encode(text),
    textPrefix: toolPrefix,
    startsInReasoning: promptOpensReasoning(text),
    parseToolCalls: useTools,
  };
}
