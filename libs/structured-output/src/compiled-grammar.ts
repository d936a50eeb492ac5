// A grammar bound to one vocabulary: its root node, the added tokens it reads whole, eos, and
// the masks of the automaton states and of their stacks seen so far (LRUs keyed by the state's /
// stack's key, shared by every request that uses this grammar, the way xgrammar caches masks).
import { initialState, stateKey, type Stack, type StateSet } from './automaton';
import type { GrammarNode } from './grammar-node';
import { computeMask, computeStackMask, type TokenMask } from './token-mask';
import type { VocabIndex } from './vocab-index';

const MAX_CACHED_MASKS = 512;

export class CompiledGrammar {
  private readonly masks = new Map<string, TokenMask>();
  private readonly stackMasks = new Map<string, TokenMask>();
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
    return this.cached(this.masks, stateKey(state), () =>
      computeMask(state, this.vocab, { symbols: this.symbols, eosTokenIds: this.eosTokenIds }, (stack) => this.stackMask(stack)));
  }

  private stackMask(stack: Stack): TokenMask {
    return this.cached(this.stackMasks, stack.key, () => computeStackMask(stack, this.vocab), false);
  }

  private cached(cache: Map<string, TokenMask>, key: string, compute: () => TokenMask, isCounted = true): TokenMask {
    const hit = cache.get(key);
    if (hit) {
      if (isCounted) this.numMaskHits++;
      cache.delete(key); // LRU: move to the back
      cache.set(key, hit);
      return hit;
    }
    if (isCounted) this.numMaskMisses++;
    const mask = compute();
    cache.set(key, mask);
    if (cache.size > MAX_CACHED_MASKS) cache.delete(cache.keys().next().value!);
    return mask;
  }
}
