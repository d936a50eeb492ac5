// The allowed-token mask of an automaton state: a bitset over the vocabulary, computed by walking
// the sorted vocabulary (vocab-index.ts) with the automaton, sharing each common prefix's state
// and skipping every token behind a prefix the grammar refuses. In a plain string state the plain
// tokens are taken from the index by their code-point count and only the others are walked.
// A state's mask is the union of its stacks' masks (each cached by the grammar under the stack's
// key); whole-token symbols (tool-call tags) and eos are checked apart. Tests: token-mask.spec.ts.
import { advance, isComplete, type Stack, type StateSet } from './automaton';
import { SYMBOL_BASE } from './grammar-node';
import { StringFrame } from './string-frame';
import type { SortedTokens, VocabIndex } from './vocab-index';

export class TokenMask {
  readonly bits: Uint32Array;
  private numAllowed = -1;

  constructor(readonly vocabSize: number, bits?: Uint32Array) {
    this.bits = bits ?? new Uint32Array(Math.ceil(vocabSize / 32));
  }

  allow(id: number): void {
    this.bits[id >>> 5] |= 1 << (id & 31);
    this.numAllowed = -1;
  }

  isAllowed(id: number): boolean {
    return (this.bits[id >>> 5] & (1 << (id & 31))) !== 0;
  }

  get count(): number {
    if (this.numAllowed < 0) {
      let n = 0;
      for (let w of this.bits) for (; w !== 0; w &= w - 1) n++;
      this.numAllowed = n;
    }
    return this.numAllowed;
  }

  /** The allowed ids, ascending. */
  ids(): Int32Array {
    const out = new Int32Array(this.count);
    let k = 0;
    for (let i = 0; i < this.bits.length; i++) {
      for (let w = this.bits[i]; w !== 0; w &= w - 1) out[k++] = i * 32 + (31 - Math.clz32(w & -w));
    }
    return out;
  }
}

/** Sets the bit of every token of `list` whose bytes the automaton accepts from `state`. */
function walk(list: SortedTokens, vocab: VocabIndex, state: StateSet, mask: TokenMask): void {
  const states: StateSet[] = [state];
  let valid = 0; // states[0..valid] belong to the previous token's prefix
  let failDepth = -1; // the previous token died reading its byte failDepth
  for (let k = 0; k < list.ids.length; k++) {
    const id = list.ids[k];
    const lcp = list.lcp[k];
    if (failDepth >= 0 && lcp > failDepth) continue; // shares the refused prefix
    const bytes = vocab.bytes[id]!;
    let d = Math.min(lcp, valid);
    failDepth = -1;
    for (; d < bytes.length; d++) {
      const next = advance(states[d], bytes[d]);
      if (next.length === 0) {
        failDepth = d;
        break;
      }
      states[d + 1] = next;
    }
    valid = d;
    if (failDepth < 0) mask.allow(id);
  }
}

export interface MaskOptions {
  /** Added tokens the grammar may take whole (tool-call tags). */
  symbols: readonly number[];
  /** Allowed once the value is complete. */
  eosTokenIds: readonly number[];
}

/** The text tokens one stack accepts (a state's mask is the union over its stacks). */
export function computeStackMask(stack: Stack, vocab: VocabIndex): TokenMask {
  const mask = new TokenMask(vocab.vocabSize);
  const state: StateSet = [stack];
  const top = stack.frame;
  const budget = top instanceof StringFrame ? top.plainTextBudget() : null;
  if (top instanceof StringFrame && budget !== null) {
    // plain string text: plain tokens that fit the length budget, then walk the others
    const plain = top.spec.raw ? vocab.rawPlain : vocab.quotedPlain;
    for (let k = 0; k < plain.ids.length; k++) if (plain.codePoints[k] <= budget) mask.allow(plain.ids[k]);
    walk(plain.rest, vocab, state, mask);
  } else {
    walk(vocab.all, vocab, state, mask);
  }
  return mask;
}

/** The whole mask of a state: its stacks' text tokens (from `stackMask`), tags and eos. */
export function computeMask(
  state: StateSet,
  vocab: VocabIndex,
  options: MaskOptions,
  stackMask: (stack: Stack) => TokenMask = (stack) => computeStackMask(stack, vocab),
): TokenMask {
  const mask = new TokenMask(vocab.vocabSize);
  for (const stack of state) {
    if (stack === null) continue;
    const bits = stackMask(stack).bits;
    for (let i = 0; i < bits.length; i++) mask.bits[i] |= bits[i];
  }
  for (const id of options.symbols) if (advance(state, SYMBOL_BASE + id).length > 0) mask.allow(id);
  if (isComplete(state)) for (const id of options.eosTokenIds) if (id < vocab.vocabSize) mask.allow(id);
  return mask;
}
