// ThinkingBudget: the server-side enforcement of Seed-OSS's thinking budget, on token ids (no
// detokenizing). It counts the tokens generated inside the think block — after `<seed:think>`,
// or from the start when the prompt left the block open — and when the count reaches the budget
// while the block is still open it forces the model's own closing words:
//   [<seed:cot_budget_reflect>] I have exhausted my token budget, and now I will start answering
//   the question.</seed:cot_budget_reflect></seed:think>
// (the opening reflect tag only when none is open, e.g. budget 0's prompt already opened one).
// Budget 0 with the block open forces at once (before the first sample). -1 / absent: unlimited.
// Tests: thinking-budget.spec.ts.
import type { TokenForcer } from '../engine/engine-request';

export const BUDGET_EXHAUSTED_TEXT = 'I have exhausted my token budget, and now I will start answering the question.';

export interface ThinkingTokenIds {
  thinkStart: number;
  thinkEnd: number;
  reflectStart: number;
  reflectEnd: number;
}

export interface ThinkingBudgetOptions {
  budget: number;
  ids: ThinkingTokenIds;
  /** Token ids of BUDGET_EXHAUSTED_TEXT. */
  exhaustedTokens: readonly number[];
  /** The prompt ended inside an open `<seed:think>` block. */
  startsInReasoning: boolean;
  /** ... and inside an open `<seed:cot_budget_reflect>` (budget 0's prefill). */
  startsInReflect: boolean;
}

type Phase = 'beforeThink' | 'thinking' | 'done';

export class ThinkingBudget implements TokenForcer {
  private phase: Phase;
  private isReflectOpen: boolean;
  /** Tokens generated inside the think block so far (forced ones excluded). */
  numThinkingTokens = 0;
  /** Whether the server closed the block. */
  isEnforced = false;

  constructor(private readonly options: ThinkingBudgetOptions) {
    this.phase = options.startsInReasoning ? 'thinking' : 'beforeThink';
    this.isReflectOpen = options.startsInReasoning && options.startsInReflect;
  }

  start(): number[] {
    return this.phase === 'thinking' && this.options.budget <= 0 ? this.close() : [];
  }

  onToken(token: number): number[] {
    const { ids } = this.options;
    if (this.phase === 'beforeThink') {
      if (token === ids.thinkStart) this.phase = 'thinking';
      return [];
    }
    if (this.phase === 'done') return [];
    if (token === ids.thinkEnd) {
      this.phase = 'done';
      return [];
    }
    if (token === ids.reflectStart) this.isReflectOpen = true;
    else if (token === ids.reflectEnd) this.isReflectOpen = false;
    this.numThinkingTokens++;
    return this.numThinkingTokens >= this.options.budget ? this.close() : [];
  }

  /** The forced closing sequence; ends enforcement. */
  private close(): number[] {
    const { ids, exhaustedTokens } = this.options;
    this.phase = 'done';
    this.isEnforced = true;
    return [...(this.isReflectOpen ? [] : [ids.reflectStart]), ...exhaustedTokens, ids.reflectEnd, ids.thinkEnd];
  }
}
