// Unit tests of the BlockManager: slot allocation, prefix hits in whole blocks, reverse free.
import { describe, expect, it } from 'vitest';
import type { BlockHash } from './block-hash';
import { BlockManager, type KvCacheRequest } from './block-manager';

function req(requestId: number, tokens: number[], numComputedTokens = 0): KvCacheRequest & { numComputedTokens: number } {
  return { requestId, allTokens: tokens, numComputedTokens, blockHashes: [] as BlockHash[] };
}
const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

// computes a request's prompt in one step and caches its blocks, as the scheduler does
function runPrompt(m: BlockManager, r: ReturnType<typeof req>): number[] {
  const computed = m.getComputedBlocks(r);
  const ids = m.allocateSlots(r, r.allTokens.length - computed.numComputedTokens, computed)!;
  r.numComputedTokens = r.allTokens.length;
  m.cacheBlocks(r);
  return ids;
}

describe('BlockManager', () => {
  it.each([
    [0, 1, 1],
    [0, 4, 1],
    [0, 5, 2],
    [3, 1, 0],
    [4, 1, 1],
  ])('with %i computed tokens, %i new tokens take %i new blocks', (computed, n, expected) => {
    const m = new BlockManager({ numBlocks: 8, blockSize: 4 });
    const r = req(1, range(computed + n));
    if (computed > 0) m.allocateSlots(r, computed);
    r.numComputedTokens = computed;
    expect(m.allocateSlots(r, n)).toHaveLength(expected);
  });

  it('returns null and changes nothing when out of blocks', () => {
    const m = new BlockManager({ numBlocks: 2, blockSize: 4 });
    expect(m.allocateSlots(req(1, range(9)), 9)).toBeNull();
    expect(m.numFreeBlocks).toBe(2);
    expect(m.getBlockIds(1)).toEqual([]);
  });

  it.each([
    ['shorter than a block', 3, 0],
    ['exactly one block: never the whole prompt', 4, 0],
    ['one block and one token', 5, 4],
    ['exactly three blocks', 12, 8],
    ['three blocks and two tokens', 14, 12],
  ])('a repeated prompt %s reuses whole blocks only', (_name, len, hit) => {
    const m = new BlockManager({ numBlocks: 16, blockSize: 4 });
    runPrompt(m, req(1, range(len)));
    const again = req(2, range(len));
    expect(m.getComputedBlocks(again).numComputedTokens).toBe(hit);
  });

  it('shares hit blocks by reference count and reports them as appended', () => {
    const m = new BlockManager({ numBlocks: 8, blockSize: 4 });
    const first = runPrompt(m, req(1, range(10)));
    const second = runPrompt(m, req(2, [...range(8), 99, 98]));
    expect(second.slice(0, 2)).toEqual(first.slice(0, 2));
    expect(second[2]).not.toBe(first[2]);
    expect(m.pool.getBlock(first[0]).refCount).toBe(2);
    expect(m.prefixCacheHitRate).toBeCloseTo(8 / 20);
  });

  it('stops at the first differing block', () => {
    const m = new BlockManager({ numBlocks: 8, blockSize: 4 });
    runPrompt(m, req(1, range(13)));
    const other = [...range(4), 77, ...range(8, 5)];
    expect(m.getComputedBlocks(req(2, other)).numComputedTokens).toBe(4);
  });

  it('hashes a prompt only up to its first miss; caching its blocks extends the hashes', () => {
    const m = new BlockManager({ numBlocks: 64, blockSize: 4 });
    runPrompt(m, req(1, range(12)));
    const long = req(2, [...range(8), ...range(100, 50)]); // 2 blocks hit, then 25 more blocks
    const hits = m.getComputedBlocks(long);
    expect(hits.numComputedTokens).toBe(8);
    expect(long.blockHashes).toHaveLength(3); // the two hits and the missed block, not all 26
    const fresh = req(3, range(100, 500));
    expect(m.getComputedBlocks(fresh).numComputedTokens).toBe(0);
    expect(fresh.blockHashes).toHaveLength(1);
    m.allocateSlots(long, 100, hits);
    long.numComputedTokens = 108;
    m.cacheBlocks(long);
    expect(long.blockHashes).toHaveLength(27);
    expect(m.getComputedBlocks(req(4, [...range(8), ...range(100, 50), 7])).numComputedTokens).toBe(108); // every block cached
  });

  it('frees tail blocks first so they are evicted before the head', () => {
    const m = new BlockManager({ numBlocks: 4, blockSize: 2 });
    const ids = runPrompt(m, req(1, range(6)));
    m.free(1);
    expect(m.pool.freeBlockIds()).toEqual([3, ids[2], ids[1], ids[0]]);
    m.allocateSlots(req(2, range(4, 100)), 4); // evicts block 3 and the tail block
    expect(m.getComputedBlocks(req(3, range(7))).numComputedTokens).toBe(4); // head blocks survive
  });

  it('counts evictable hit blocks against free capacity', () => {
    const m = new BlockManager({ numBlocks: 3, blockSize: 2 });
    runPrompt(m, req(1, range(5))); // blocks for [0,1] [2,3] cached, 3 blocks used
    m.free(1);
    const holder = req(9, range(2, 50));
    m.allocateSlots(holder, 2); // takes the uncached tail block
    const r = req(2, range(5));
    const computed = m.getComputedBlocks(r);
    expect(computed.numComputedTokens).toBe(4);
    expect(m.allocateSlots(r, 1, computed)).toBeNull(); // needs 2 hits + 1 new, only 2 free
    expect(m.numFreeBlocks).toBe(2);
  });

  it('does nothing for prefix caching when disabled', () => {
    const m = new BlockManager({ numBlocks: 8, blockSize: 4, enablePrefixCaching: false });
    runPrompt(m, req(1, range(9)));
    expect(m.getComputedBlocks(req(2, range(9))).numComputedTokens).toBe(0);
    expect(m.pool.numCachedBlocks).toBe(0);
  });
});
