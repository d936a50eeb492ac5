// Unit tests of the intrusive LRU free queue.
import { describe, expect, it } from 'vitest';
import { FreeBlockQueue } from './free-block-queue';
import { KvBlock } from './kv-block';

const blocks = (n: number): KvBlock[] => Array.from({ length: n }, (_, i) => new KvBlock(i));

describe('FreeBlockQueue', () => {
  it('pops from the head in insertion order and appends to the tail', () => {
    const bs = blocks(3);
    const q = new FreeBlockQueue(bs);
    expect(q.popFront()?.blockId).toBe(0);
    q.pushBack(bs[0]);
    expect(q.blockIds()).toEqual([1, 2, 0]);
    expect(q.length).toBe(3);
  });

  it.each([
    ['head', 0, [1, 2, 3]],
    ['middle', 2, [0, 1, 3]],
    ['tail', 3, [0, 1, 2]],
  ])('removes the %s in O(1)', (_name, id, rest) => {
    const bs = blocks(4);
    const q = new FreeBlockQueue(bs);
    q.remove(bs[id]);
    expect(q.blockIds()).toEqual(rest);
    expect(q.length).toBe(3);
    expect(bs[id].isInFreeQueue).toBe(false);
  });

  it('empties and refills', () => {
    const bs = blocks(2);
    const q = new FreeBlockQueue(bs);
    q.popFront();
    q.popFront();
    expect(q.popFront()).toBeNull();
    expect(q.length).toBe(0);
    q.pushBack(bs[1]);
    expect(q.blockIds()).toEqual([1]);
  });

  it('rejects double insertion and removal of an absent block', () => {
    const bs = blocks(2);
    const q = new FreeBlockQueue([bs[0]]);
    expect(() => q.pushBack(bs[0])).toThrow(/already/);
    expect(() => q.remove(bs[1])).toThrow(/not in/);
  });
});
