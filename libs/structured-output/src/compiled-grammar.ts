// A grammar bound to one vocabulary: its root node, the added tokens it reads whole, eos, and
// the masks of the automaton states and of their stacks seen so far (LRUs keyed by the state's /
// stack's key, shared by every request that uses this grammar, the way xgrammar caches masks).
// A mask computed elsewhere (the mask thread, mask-thread.ts) is stored under its state's key.
import { advance, initialState, stateKey, type Stack, type StateSet } from './automaton';
import type { GrammarNode } from './grammar-node';
import type { GrammarRequest } from './grammar-request';
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
    /** What it was compiled from (another thread compiles the same grammar from it). */
    readonly request?: GrammarRequest,
  ) {}

  initialState(): StateSet {
    return initialState(this.root);
  }

  /** The state a matcher's journal leads to (from `from`, by default the initial state). */
  replay(symbols: ArrayLike<number>, from: StateSet = this.initialState(), start = 0): StateSet {
    let state = from;
    for (let i = start; i < symbols.length && state.length > 0; i++) state = advance(state, symbols[i]);
    return state;
  }

  /** A cache hit (counted, moved to the back of the LRU), or undefined. */
  cachedMask(key: string): TokenMask | undefined {
    const hit = this.masks.get(key);
    if (hit === undefined) return undefined;
    this.numMaskHits++;
    this.masks.delete(key);
    this.masks.set(key, hit);
    return hit;
  }

  /** Stores the mask of the state with this key (computed elsewhere). */
  storeMask(key: string, mask: TokenMask): void {
    this.masks.delete(key);
    this.masks.set(key, mask);
    if (this.masks.size > MAX_CACHED_MASKS) this.masks.delete(this.masks.keys().next().value!);
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
