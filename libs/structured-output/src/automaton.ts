// The pushdown automaton over a grammar: a state is a set of frame stacks (several while a choice,
// an optional member or a number's end is still undecided), advanced one symbol at a time. A
// stack whose frames have all completed is the "complete" stack (null): the value is whole and
// only the end of generation may follow. Tests: automaton.spec.ts.
import type { Frame } from './frame';
import { beginFrame } from './grammar-frame';
import type { GrammarNode } from './grammar-node';

export interface Stack {
  readonly frame: Frame;
  readonly parent: Stack | null;
  readonly key: string;
}

/** Stacks by key; null stands for the complete stack. */
export type StateSet = ReadonlyArray<Stack | null>;

const COMPLETE_KEY = '$';
/** Refeeds in one symbol's step beyond this mean a grammar cycle that reads nothing ($ref loop). */
const MAX_REFEED_DEPTH = 256;

function push(parent: Stack | null, frame: Frame): Stack {
  return { frame, parent, key: parent ? `${frame.key}<${parent.key}` : frame.key };
}

export function stackKey(stack: Stack | null): string {
  return stack ? stack.key : COMPLETE_KEY;
}

export function initialState(root: GrammarNode): StateSet {
  return [push(null, beginFrame(root))];
}

function advanceStack(stack: Stack | null, symbol: number, out: Map<string, Stack | null>, depth: number): void {
  if (stack === null || depth > MAX_REFEED_DEPTH) return;
  for (const move of stack.frame.step(symbol)) {
    let next = stack.parent;
    for (const f of move.next) next = push(next, f);
    if (move.refeed) advanceStack(next, symbol, out, depth + 1);
    else out.set(stackKey(next), next);
  }
  // a node that may end here lets its parent read the symbol
  if (stack.frame.canEnd()) advanceStack(stack.parent, symbol, out, depth + 1);
}

/** The state after reading `symbol` (empty: the symbol is not allowed). */
export function advance(state: StateSet, symbol: number): StateSet {
  const out = new Map<string, Stack | null>();
  for (const stack of state) advanceStack(stack, symbol, out, 0);
  return [...out.values()];
}

export function advanceBytes(state: StateSet, bytes: Uint8Array): StateSet {
  let s = state;
  for (let i = 0; i < bytes.length && s.length > 0; i++) s = advance(s, bytes[i]);
  return s;
}

function stackCanEnd(stack: Stack | null): boolean {
  for (let s = stack; s !== null; s = s.parent) if (!s.frame.canEnd()) return false;
  return true;
}

/** Whether the text so far is a whole value (generation may end here). */
export function isComplete(state: StateSet): boolean {
  return state.some(stackCanEnd);
}

/** Whether nothing but the end may follow. */
export function isClosed(state: StateSet): boolean {
  return state.every((s) => s === null);
}

export function stateKey(state: StateSet): string {
  return state.map(stackKey).sort().join('\n');
}
