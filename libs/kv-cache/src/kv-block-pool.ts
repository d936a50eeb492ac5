// The pool of KV blocks: a fixed number of blocks of a fixed size, reference counts, the LRU
// free queue and the prefix-cache index (block hash -> block). Freed blocks keep their hash and
// stay findable until the free queue hands them out again. Tested by kv-block-pool.spec.ts.

import type { BlockHash } from './block-hash';
import { FreeBlockQueue } from './free-block-queue';
import { KvBlock } from './kv-block';

function sameTokens(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Owns every KvBlock. Rules: a block is in the free queue iff its refCount is 0; allocate()
 * takes from the head and evicts the block's hash; free() appends to the tail; at most one block
 * is registered per hash.
 */
export class KvBlockPool {
  private readonly blocks: KvBlock[];
  private readonly freeQueue: FreeBlockQueue;
  private readonly cachedBlocks = new Map<BlockHash, KvBlock>();

  constructor(
    readonly numBlocks: number,
    readonly blockSize: number,
  ) {
    if (!Number.isInteger(numBlocks) || numBlocks < 1) throw new RangeError(`numBlocks must be a positive integer, got ${numBlocks}`);
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`blockSize must be a positive integer, got ${blockSize}`);
    this.blocks = Array.from({ length: numBlocks }, (_, i) => new KvBlock(i));
    this.freeQueue = new FreeBlockQueue(this.blocks);
  }

  /** Blocks with no owner (including cached ones, which are evictable). */
  get numFreeBlocks(): number {
    return this.freeQueue.length;
  }

  get numUsedBlocks(): number {
    return this.numBlocks - this.freeQueue.length;
  }

  /** Fraction of blocks owned by at least one request, in [0, 1]. */
  get usage(): number {
    return this.numUsedBlocks / this.numBlocks;
  }

  /** Blocks registered in the prefix cache (owned or free). */
  get numCachedBlocks(): number {
    return this.cachedBlocks.size;
  }

  /** Read-only view of a block (tests, debugging). */
  getBlock(blockId: number): Readonly<KvBlock> {
    const b = this.blocks[blockId];
    if (b === undefined) throw new RangeError(`no block ${blockId}`);
    return b;
  }

  /** Free block ids in eviction order, head first (tests, debugging). */
  freeBlockIds(): number[] {
    return this.freeQueue.blockIds();
  }

  /**
   * Takes `n` blocks from the head of the free queue with refCount 1, evicting any cached hash
   * they held. Returns null and takes nothing when fewer than `n` blocks are free.
   */
  allocate(n: number): KvBlock[] | null {
    if (n > this.freeQueue.length) return null;
    const out: KvBlock[] = [];
    for (let i = 0; i < n; i++) {
      const b = this.freeQueue.popFront() as KvBlock;
      this.evict(b);
      b.refCount = 1;
      out.push(b);
    }
    return out;
  }

  /**
   * Returns the cached block whose hash, parent hash and tokens all match, or null. Takes no
   * reference: call touch() to claim it.
   */
  getCachedBlock(hash: BlockHash, parentHash: BlockHash | null, tokens: readonly number[]): KvBlock | null {
    const b = this.cachedBlocks.get(hash);
    if (b === undefined || b.parentHash !== parentHash || b.tokens === null) return null;
    // hash collision guard: the contents must match too
    return sameTokens(b.tokens, tokens) ? b : null;
  }

  /** Takes one more reference on each block; an unowned (cached) block leaves the free queue. */
  touch(blocks: readonly KvBlock[]): void {
    for (const b of blocks) {
      if (b.refCount === 0) this.freeQueue.remove(b);
      b.refCount++;
    }
  }

  /**
   * Drops one reference on each block, in the given order; a block reaching 0 joins the tail
   * of the free queue and keeps its hash (still a prefix-cache hit until reallocated).
   */
  free(blocks: readonly KvBlock[]): void {
    for (const b of blocks) {
      if (b.refCount <= 0) throw new Error(`block ${b.blockId} freed more often than taken`);
      b.refCount--;
      if (b.refCount === 0) this.freeQueue.pushBack(b);
    }
  }

  /**
   * Registers a full block whose KV is computed under `hash`. Returns false (and registers
   * nothing) when the block is already cached or another block already holds that hash.
   */
  cacheBlock(b: KvBlock, hash: BlockHash, parentHash: BlockHash | null, tokens: readonly number[]): boolean {
    if (b.blockHash !== null || this.cachedBlocks.has(hash)) return false;
    if (tokens.length !== this.blockSize) throw new Error(`only full blocks are cached (${tokens.length} tokens)`);
    b.blockHash = hash;
    b.parentHash = parentHash;
    b.tokens = tokens.slice();
    this.cachedBlocks.set(hash, b);
    return true;
  }

  /** Forgets every cached hash (e.g. after the weights change). Owned blocks stay owned. */
  resetPrefixCache(): void {
    for (const b of this.cachedBlocks.values()) this.clearHash(b);
    this.cachedBlocks.clear();
  }

  private evict(b: KvBlock): void {
    if (b.blockHash !== null && this.cachedBlocks.get(b.blockHash) === b) this.cachedBlocks.delete(b.blockHash);
    this.clearHash(b);
  }

  private clearHash(b: KvBlock): void {
    b.blockHash = null;
    b.parentHash = null;
    b.tokens = null;
  }
}
