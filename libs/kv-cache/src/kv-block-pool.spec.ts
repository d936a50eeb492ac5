// Unit tests of the block pool: allocation order, refcounts, LRU eviction of cached blocks.
import { describe, expect, it } from 'vitest';
import { hashBlockTokens } from './block-hash';
import { KvBlockPool } from './kv-block-pool';

const T = [1, 2];
const H = hashBlockTokens(null, T);

describe('KvBlockPool', () => {
  it('allocates from the head, all or nothing', () => {
    const pool = new KvBlockPool(4, 2);
    expect(pool.allocate(3)?.map((b) => b.blockId)).toEqual([0, 1, 2]);
    expect(pool.allocate(2)).toBeNull();
    expect(pool.numFreeBlocks).toBe(1);
    expect(pool.usage).toBe(0.75);
  });

  it('frees to the tail once the last reference is dropped', () => {
    const pool = new KvBlockPool(3, 2);
    const [a] = pool.allocate(1)!;
    pool.touch([a]);
    pool.free([a]);
    expect(pool.numFreeBlocks).toBe(2);
    pool.free([a]);
    expect(pool.freeBlockIds()).toEqual([1, 2, 0]);
    expect(() => pool.free([a])).toThrow(/freed more often/);
  });

  it('keeps a freed cached block findable until it is reallocated', () => {
    const pool = new KvBlockPool(2, 2);
    const [a] = pool.allocate(1)!;
    expect(pool.cacheBlock(a, H, null, T)).toBe(true);
    pool.free([a]);
    expect(pool.getCachedBlock(H, null, T)).toBe(a);
    // block 1 is older in the free queue, so it goes first and `a` survives
    pool.allocate(1);
    expect(pool.getCachedBlock(H, null, T)).toBe(a);
    pool.allocate(1);
    expect(pool.getCachedBlock(H, null, T)).toBeNull();
    expect(a.blockHash).toBeNull();
    expect(pool.numCachedBlocks).toBe(0);
  });

  it('a hit on a free cached block takes it out of the free queue', () => {
    const pool = new KvBlockPool(2, 2);
    const [a] = pool.allocate(1)!;
    pool.cacheBlock(a, H, null, T);
    pool.free([a]);
    pool.touch([pool.getCachedBlock(H, null, T)!]);
    expect(a.refCount).toBe(1);
    expect(pool.freeBlockIds()).toEqual([1]);
  });

  it.each([
    ['different tokens under the same hash', H, null, [1, 3]],
    ['a different parent under the same hash', H, 'ffffffffffffffff', T],
    ['an unknown hash', '0000000000000000', null, T],
  ])('misses on %s', (_name, hash, parent, tokens) => {
    const pool = new KvBlockPool(2, 2);
    const [a] = pool.allocate(1)!;
    pool.cacheBlock(a, H, null, T);
    expect(pool.getCachedBlock(hash, parent, tokens)).toBeNull();
  });

  it('registers one block per hash and only full blocks', () => {
    const pool = new KvBlockPool(3, 2);
    const [a, b, c] = pool.allocate(3)!;
    expect(pool.cacheBlock(a, H, null, T)).toBe(true);
    expect(pool.cacheBlock(b, H, null, T)).toBe(false);
    expect(() => pool.cacheBlock(c, 'x', null, [1])).toThrow(/full blocks/);
    pool.resetPrefixCache();
    expect(pool.getCachedBlock(H, null, T)).toBeNull();
  });
});
