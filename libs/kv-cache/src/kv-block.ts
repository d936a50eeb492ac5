// One KV cache block as the coordinator sees it: an id shared with every worker's paged KV
// cache, a reference count, the prefix-cache identity of its contents, and the intrusive links
// of the free queue. Owned by KvBlockPool; never constructed elsewhere.

import type { BlockHash } from './block-hash';

/** A block id with its bookkeeping. refCount 0 <=> the block sits in the free queue. */
export class KvBlock {
  /** Number of requests whose block table holds this block. */
  refCount = 0;
  /** Set while the block is registered in the prefix cache (full and computed). */
  blockHash: BlockHash | null = null;
  /** Parent block's hash and the block's tokens, compared on every hit to rule out collisions. */
  parentHash: BlockHash | null = null;
  tokens: readonly number[] | null = null;
  /** Free-queue links (FreeBlockQueue only). */
  prevFree: KvBlock | null = null;
  nextFree: KvBlock | null = null;
  isInFreeQueue = false;

  constructor(readonly blockId: number) {}

  /** Whether the block is findable in the prefix cache. */
  get isCached(): boolean {
    return this.blockHash !== null;
  }
}
