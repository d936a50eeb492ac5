// BlockManager (vLLM's KVCacheManager): per-request block tables over a KvBlockPool, prefix
// lookups of whole cached blocks, slot allocation for the tokens of the next step, caching of
// newly computed full blocks, and the prefix-cache hit counters. Tested by block-manager.spec.ts.

import { type BlockHash, extendBlockHashes } from './block-hash';
import type { KvBlock } from './kv-block';
import { KvBlockPool } from './kv-block-pool';

/** What the manager needs to know about a request (the scheduler's Request implements it). */
export interface KvCacheRequest {
  readonly requestId: number;
  /** Every known token, prompt then outputs; only ever grows at the end. */
  readonly allTokens: readonly number[];
  /** Tokens whose KV is written: every position before the next chunk's startPos. */
  readonly numComputedTokens: number;
  /** Chained hashes of the request's full blocks; extended lazily by the manager. */
  readonly blockHashes: BlockHash[];
  /** Async scheduling: tokens scheduled to steps not reported yet (0 when absent). */
  readonly numInFlightTokens?: number;
}

/** A cached prefix: whole blocks, to be claimed by allocateSlots. */
export interface ComputedBlocks {
  readonly blocks: readonly KvBlock[];
  readonly numComputedTokens: number;
}

export interface BlockManagerOptions {
  numBlocks: number;
  blockSize: number;
  /** Automatic prefix caching (default true). */
  enablePrefixCaching?: boolean;
}

const NO_BLOCKS: ComputedBlocks = { blocks: [], numComputedTokens: 0 };

interface BlockTable {
  readonly blocks: KvBlock[];
  /** Leading blocks already registered in (or taken from) the prefix cache. */
  numCachedBlocks: number;
}

export class BlockManager {
  readonly pool: KvBlockPool;
  readonly enablePrefixCaching: boolean;
  private readonly tables = new Map<number, BlockTable>();
  private queryTokens = 0;
  private hitTokens = 0;

  constructor(opts: BlockManagerOptions) {
    this.pool = new KvBlockPool(opts.numBlocks, opts.blockSize);
    this.enablePrefixCaching = opts.enablePrefixCaching ?? true;
  }

  get blockSize(): number {
    return this.pool.blockSize;
  }
  get numBlocks(): number {
    return this.pool.numBlocks;
  }
  get numFreeBlocks(): number {
    return this.pool.numFreeBlocks;
  }
  /** Fraction of blocks owned by requests, in [0, 1]. */
  get usage(): number {
    return this.pool.usage;
  }
  /** Prompt tokens looked up / found in the prefix cache, counted once per admission. */
  get numPrefixQueryTokens(): number {
    return this.queryTokens;
  }
  get numPrefixHitTokens(): number {
    return this.hitTokens;
  }
  /** hits / queries in tokens (0 before any query). */
  get prefixCacheHitRate(): number {
    return this.queryTokens === 0 ? 0 : this.hitTokens / this.queryTokens;
  }

  /** Blocks needed to hold `numTokens` tokens. */
  blocksFor(numTokens: number): number {
    return Math.ceil(numTokens / this.pool.blockSize);
  }

  /** Whether `numTokens` tokens could fit if the whole pool were free. */
  canEverFit(numTokens: number): boolean {
    return this.blocksFor(numTokens) <= this.pool.numBlocks;
  }

  /** Block ids of a request's block table, in position order (empty when it has none). */
  getBlockIds(requestId: number): number[] {
    return this.tables.get(requestId)?.blocks.map((b) => b.blockId) ?? [];
  }

  /**
   * The longest cached prefix of the request's tokens in whole blocks. Never the whole token
   * list: at least the last token is left to compute so the model yields logits. Takes no
   * reference; pass the result to allocateSlots to claim it. Hashes blocks only up to the first
   * miss (request.blockHashes then covers the hits and that block): a new 100K-token prompt
   * costs one hash here, not 6,000, and cacheBlocks extends the list as chunks are computed.
   */
  getComputedBlocks(request: KvCacheRequest): ComputedBlocks {
    if (!this.enablePrefixCaching) return NO_BLOCKS;
    const tokens = request.allTokens;
    const bs = this.pool.blockSize;
    const maxBlocks = Math.floor((tokens.length - 1) / bs);
    const blocks: KvBlock[] = [];
    for (let i = 0; i < maxBlocks; i++) {
      extendBlockHashes(request.blockHashes, tokens, bs, i + 1);
      const parent = i === 0 ? null : request.blockHashes[i - 1];
      const b = this.pool.getCachedBlock(request.blockHashes[i], parent, tokens.slice(i * bs, (i + 1) * bs));
      if (b === null) break;
      blocks.push(b);
    }
    return { blocks, numComputedTokens: blocks.length * bs };
  }

  /**
   * Grows the request's block table to hold numComputedTokens + numInFlightTokens + numNewTokens
   * tokens (where numComputedTokens comes from `computed` on the first allocation, else from the
   * request).
   * `computed` (only on a request's first allocation) claims its cached blocks first and counts
   * the prefix query. Returns every block id appended (cached ones included), or null, changing
   * nothing, when there are not enough free blocks.
   */
  allocateSlots(request: KvCacheRequest, numNewTokens: number, computed?: ComputedBlocks): number[] | null {
    const existing = this.tables.get(request.requestId);
    if (computed !== undefined && existing !== undefined && existing.blocks.length > 0) {
      throw new Error(`request ${request.requestId} already holds blocks; computed blocks apply to a first allocation only`);
    }
    const hit = computed ?? NO_BLOCKS;
    const numComputed = computed !== undefined ? hit.numComputedTokens : request.numComputedTokens + (request.numInFlightTokens ?? 0);
    const numHeld = (existing?.blocks.length ?? 0) + hit.blocks.length;
    const numNew = Math.max(0, this.blocksFor(numComputed + numNewTokens) - numHeld);
    // cached blocks nobody owns sit in the free queue: claiming them uses free capacity too
    const numEvictableHits = hit.blocks.filter((b) => b.refCount === 0).length;
    if (numNew + numEvictableHits > this.pool.numFreeBlocks) return null;

    const table = existing ?? { blocks: [], numCachedBlocks: 0 };
    this.tables.set(request.requestId, table);
    if (computed !== undefined) {
      this.pool.touch(hit.blocks);
      table.blocks.push(...hit.blocks);
      table.numCachedBlocks = hit.blocks.length;
      this.queryTokens += request.allTokens.length;
      this.hitTokens += hit.numComputedTokens;
    }
    const fresh = this.pool.allocate(numNew) as KvBlock[];
    table.blocks.push(...fresh);
    return [...hit.blocks, ...fresh].map((b) => b.blockId);
  }

  /**
   * Registers the request's full blocks whose KV is computed (request.numComputedTokens) in the
   * prefix cache. Call after the step that computed them has run, never before.
   */
  cacheBlocks(request: KvCacheRequest): void {
    const table = this.tables.get(request.requestId);
    if (!this.enablePrefixCaching || table === undefined) return;
    const bs = this.pool.blockSize;
    const numFull = Math.min(Math.floor(request.numComputedTokens / bs), table.blocks.length);
    if (numFull <= table.numCachedBlocks) return;
    extendBlockHashes(request.blockHashes, request.allTokens, bs, numFull);
    for (let i = table.numCachedBlocks; i < numFull; i++) {
      const parent = i === 0 ? null : request.blockHashes[i - 1];
      const tokens = request.allTokens.slice(i * bs, (i + 1) * bs);
      this.pool.cacheBlock(table.blocks[i], request.blockHashes[i], parent, tokens);
    }
    table.numCachedBlocks = numFull;
  }

  /** Releases a request's blocks, tail first, so its tail blocks are evicted before its head. */
  free(requestId: number): void {
    const table = this.tables.get(requestId);
    if (table === undefined) return;
    this.tables.delete(requestId);
    this.pool.free(table.blocks.slice().reverse());
  }
}
