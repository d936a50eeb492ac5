// Shared prefill: a waiting request whose next uncached prompt block is being computed right now
// by a running request (n > 1 choices, identical prompts, a common system prompt admitted twice)
// waits for that prefill instead of computing the same block again. Blocks are cached once
// reported computed, so when it is admitted it takes them as prefix-cache hits (refcounted
// shares) and computes only what differs, at least its last block's tail: its own sampling needs
// its own logits, and the partial last block is written per sequence (no copy of a block).

import { extendBlockHashes } from '../../kv-cache/src/block-hash';
import type { BlockManager, ComputedBlocks } from '../../kv-cache/src/block-manager';
import type { Request } from './request';
import type { RequestQueue } from './request-queue';

/**
 * Whether `waiting` should wait: prefix caching is on, it could still take block k (the first
 * block past its current hits) as a hit, and some running request holds the identical prefix up
 * to block k and has not reported it computed yet.
 */
export function isWaitingForSharedPrefill<P>(
  waiting: Request<P>,
  hits: ComputedBlocks,
  running: RequestQueue<P>,
  kvCache: BlockManager,
): boolean {
  if (!kvCache.enablePrefixCaching) return false;
  const bs = kvCache.blockSize;
  const k = hits.blocks.length;
  if (k >= Math.floor((waiting.numTokens - 1) / bs)) return false; // nothing more it could hit
  const hash = waiting.blockHashes[k]; // getComputedBlocks hashed up to its first miss, block k
  for (let i = 0; i < running.length; i++) {
    const r = running.at(i) as Request<P>;
    if (r.numComputedTokens >= (k + 1) * bs || r.numTokens < (k + 1) * bs) continue;
    extendBlockHashes(r.blockHashes, r.allTokens, bs, k + 1);
    // chained hashes: equal at k means equal blocks 0..k (tokens compared again on the hit)
    if (r.blockHashes[k] === hash) return true;
  }
  return false;
}
