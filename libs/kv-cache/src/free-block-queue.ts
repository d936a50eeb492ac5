// The LRU free queue of KV blocks: an intrusive doubly-linked list so a cached block hit by a
// prefix lookup can leave the middle of the queue in O(1). Allocation takes from the head
// (least recently freed); freed blocks join the tail. Tested by free-block-queue.spec.ts.

import type { KvBlock } from './kv-block';

/** Doubly-linked queue of blocks with refCount 0, in eviction order (head first). */
export class FreeBlockQueue {
  private head: KvBlock | null = null;
  private tail: KvBlock | null = null;
  private count = 0;

  /** Queues `blocks` in the given order (the first one is evicted first). */
  constructor(blocks: readonly KvBlock[] = []) {
    for (const b of blocks) this.pushBack(b);
  }

  get length(): number {
    return this.count;
  }

  /** Removes and returns the head (the next block to evict), or null when empty. */
  popFront(): KvBlock | null {
    const b = this.head;
    if (b !== null) this.remove(b);
    return b;
  }

  /** Appends a block at the tail (evicted last). The block must not be queued already. */
  pushBack(b: KvBlock): void {
    if (b.isInFreeQueue) throw new Error(`block ${b.blockId} is already in the free queue`);
    b.prevFree = this.tail;
    b.nextFree = null;
    if (this.tail !== null) this.tail.nextFree = b;
    else this.head = b;
    this.tail = b;
    b.isInFreeQueue = true;
    this.count++;
  }

  /** Unlinks a block from anywhere in the queue. The block must be queued. */
  remove(b: KvBlock): void {
    if (!b.isInFreeQueue) throw new Error(`block ${b.blockId} is not in the free queue`);
    if (b.prevFree !== null) b.prevFree.nextFree = b.nextFree;
    else this.head = b.nextFree;
    if (b.nextFree !== null) b.nextFree.prevFree = b.prevFree;
    else this.tail = b.prevFree;
    b.prevFree = null;
    b.nextFree = null;
    b.isInFreeQueue = false;
    this.count--;
  }

  /** Block ids head to tail (for tests and debugging). */
  blockIds(): number[] {
    const ids: number[] = [];
    for (let b = this.head; b !== null; b = b.nextFree) ids.push(b.blockId);
    return ids;
  }
}
