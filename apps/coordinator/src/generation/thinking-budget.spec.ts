// The thinking-budget state machine on token ids, and its construction from a prompt.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../../../libs/tiny-model/src/make-tiny-model';
import { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';
import { BUDGET_EXHAUSTED_TEXT, ThinkingBudget } from './thinking-budget';
import { createThinkingBudget } from './thinking-budget.factory';

const IDS = { thinkStart: 3, thinkEnd: 4, reflectStart: 5, reflectEnd: 6 };
const WORDS = [100, 101, 102];
const CLOSE = [5, ...WORDS, 6, 4];

function budget(n: number, startsInReasoning = false, startsInReflect = false): ThinkingBudget {
  return new ThinkingBudget({ budget: n, ids: IDS, exhaustedTokens: WORDS, startsInReasoning, startsInReflect });
}

describe('ThinkingBudget', () => {
  it('counts only tokens inside the think block and closes it at the budget', () => {
    const b = budget(3);
    expect(b.start()).toEqual([]);
    expect(b.onToken(50)).toEqual([]); // before <seed:think>: not counted
    expect(b.onToken(3)).toEqual([]);
    expect(b.onToken(60)).toEqual([]);
    expect(b.onToken(61)).toEqual([]);
    expect(b.onToken(62)).toEqual(CLOSE);
    expect(b.isEnforced).toBe(true);
    expect(b.numThinkingTokens).toBe(3);
    expect(b.onToken(63)).toEqual([]); // done: never again
  });

  it('does nothing when the model closes the block in time', () => {
    const b = budget(5);
    for (const t of [3, 60, 61, 4, 70, 71, 72, 73, 74, 75]) expect(b.onToken(t)).toEqual([]);
    expect(b.isEnforced).toBe(false);
  });

  it('counts from the start when the prompt opened the block', () => {
    const b = budget(2, true);
    expect(b.onToken(60)).toEqual([]);
    expect(b.onToken(61)).toEqual(CLOSE);
  });

  it('budget 0 with the block and a reflect tag already open: closes at once, without a second reflect opener', () => {
    const b = budget(0, true, true);
    expect(b.start()).toEqual([...WORDS, 6, 4]);
    expect(b.onToken(60)).toEqual([]);
  });

  it('does not reopen a reflect tag the model opened itself', () => {
    const b = budget(3, true);
    expect(b.onToken(5)).toEqual([]);
    expect(b.onToken(60)).toEqual([]);
    expect(b.onToken(61)).toEqual([...WORDS, 6, 4]);
  });
});

describe('createThinkingBudget', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thinking-budget-'));
  makeTinyModel({ outDir: dir, numLayers: 1, hiddenSize: 16, headDim: 8, intermediateSize: 16 });
  const tokenizer = Tokenizer.fromModelDir(dir);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is undefined without a budget or for -1', () => {
    expect(createThinkingBudget(tokenizer, undefined, 'x')).toBeUndefined();
    expect(createThinkingBudget(tokenizer, -1, 'x')).toBeUndefined();
  });

  it('reads the prompt: budget 0 prefill opens both the block and the reflect tag', () => {
    const b = createThinkingBudget(tokenizer, 0, '<seed:bos>assistant\n<seed:think><seed:cot_budget_reflect>')!;
    const forced = b.start();
    expect(tokenizer.decode(forced)).toBe(`${BUDGET_EXHAUSTED_TEXT}</seed:cot_budget_reflect></seed:think>`);
  });

  it('a positive budget after a plain prompt closes with the full reflection', () => {
    const b = createThinkingBudget(tokenizer, 1, '<seed:bos>assistant\n')!;
    expect(b.start()).toEqual([]);
    b.onToken(tokenizer.tokenToId('<seed:think>')!);
    const forced = b.onToken(tokenizer.encode('Hmm')[0]);
    expect(tokenizer.decode(forced)).toBe(`<seed:cot_budget_reflect>${BUDGET_EXHAUSTED_TEXT}</seed:cot_budget_reflect></seed:think>`);
  });
});
