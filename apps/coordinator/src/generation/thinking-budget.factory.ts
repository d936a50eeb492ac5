// Builds the ThinkingBudget of one chat request from the tokenizer and the rendered prompt, or
// undefined when there is nothing to enforce (no budget, -1, or a tokenizer without the Seed
// think / budget-reflect tokens). Tests: thinking-budget.spec.ts.
import { BUDGET_REFLECT_END, BUDGET_REFLECT_START, THINK_END, THINK_START } from '../../../../libs/chat-parsers/src/seed-tags';
import type { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';
import { BUDGET_EXHAUSTED_TEXT, ThinkingBudget, type ThinkingTokenIds } from './thinking-budget';

const idCache = new WeakMap<Tokenizer, { ids?: ThinkingTokenIds; exhausted: number[] }>();

function tokenIds(tokenizer: Tokenizer): { ids?: ThinkingTokenIds; exhausted: number[] } {
  let cached = idCache.get(tokenizer);
  if (!cached) {
    const [thinkStart, thinkEnd, reflectStart, reflectEnd] = [THINK_START, THINK_END, BUDGET_REFLECT_START, BUDGET_REFLECT_END].map((t) => tokenizer.addedTokenId(t));
    const complete = [thinkStart, thinkEnd, reflectStart, reflectEnd].every((id) => id !== undefined);
    cached = {
      ids: complete ? { thinkStart: thinkStart!, thinkEnd: thinkEnd!, reflectStart: reflectStart!, reflectEnd: reflectEnd! } : undefined,
      exhausted: complete ? tokenizer.encode(BUDGET_EXHAUSTED_TEXT) : [],
    };
    idCache.set(tokenizer, cached);
  }
  return cached;
}

/** True when `tag` is opened after the last think opener and not closed since. */
function isOpenAtEnd(prompt: string, open: string, close: string): boolean {
  return prompt.lastIndexOf(open) > prompt.lastIndexOf(close);
}

export function createThinkingBudget(tokenizer: Tokenizer, budget: number | undefined, prompt: string): ThinkingBudget | undefined {
  if (budget === undefined || budget < 0) return undefined;
  const { ids, exhausted } = tokenIds(tokenizer);
  if (ids === undefined) return undefined;
  const startsInReasoning = isOpenAtEnd(prompt, THINK_START, THINK_END);
  const lastThink = prompt.lastIndexOf(THINK_START);
  const startsInReflect = startsInReasoning && prompt.lastIndexOf(BUDGET_REFLECT_START) > Math.max(lastThink, prompt.lastIndexOf(BUDGET_REFLECT_END));
  return new ThinkingBudget({ budget, ids, exhaustedTokens: exhausted, startsInReasoning, startsInReflect });
}
