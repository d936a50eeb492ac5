// A grammar bound to one vocabulary: its root node, the added tokens it reads whole, eos, and
// the masks of the automaton states seen so far (an LRU keyed by the state's key, shared by every
// request that uses this grammar, the way xgrammar caches context-independent masks).
import { initialState, stateKey, type StateSet } from './automaton';
import type { GrammarNode } from './grammar-node';
import { computeMask, type TokenMask } from './token-mask';
import type { VocabIndex } from './vocab-index';

const MAX_CACHED_MASKS = 512;

export class CompiledGrammar {
  private readonly masks = new Map<string, TokenMask>();
  numMaskHits = 0;
  numMaskMisses = 0;

  constructor(
    readonly root: GrammarNode,
    readonly vocab: VocabIndex,
    /** Added-token ids the grammar's literals take whole. */
    readonly symbols: readonly number[],
    readonly eosTokenIds: readonly number[],
  ) {}

  initialState(): StateSet {
    return initialState(this.root);
  }

  mask(state: StateSet): TokenMask {
    const key = stateKey(state);
    const cached = this.masks.get(key);
    if (cached) {
      this.numMaskHits++;
      this.masks.delete(key); // LRU: move to the back
      this.masks.set(key, cached);
      return cached;
    }
    this.numMaskMisses++;
    const mask = computeMask(state, this.vocab, { symbols: this.symbols, eosTokenIds: this.eosTokenIds });
    this.masks.set(key, mask);
    if (this.masks.size > MAX_CACHED_MASKS) this.masks.delete(this.masks.keys().next().value!);
    return mask;
  }
}
