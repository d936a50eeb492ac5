// Where a constraint gets the mask of its matcher's state. `maskNow` answers from the grammar's
// cache or computes on the spot (tests, benches, and the last-resort fallback); the server's
// source (mask-thread-client.ts) answers hits at once and computes misses on another thread.
import type { GrammarMatcher } from './grammar-matcher';
import type { TokenMask } from './token-mask';

export interface MaskSource {
  /** The mask of the matcher's state if it is known now; else undefined, and it is being computed. */
  maskIfReady(matcher: GrammarMatcher): TokenMask | undefined;
  /** The mask now, computed on this thread if it must be. */
  maskNow(matcher: GrammarMatcher): TokenMask;
}

/** Computes every miss on the calling thread. */
export const SYNC_MASK_SOURCE: MaskSource = {
  maskIfReady: (matcher) => matcher.mask(),
  maskNow: (matcher) => matcher.mask(),
};
