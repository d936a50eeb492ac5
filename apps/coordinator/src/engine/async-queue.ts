// AsyncQueue: a single-consumer queue of events from the engine loop to an HTTP handler,
// consumed with `for await`. push() never blocks; close() ends the iteration after the queued
// items are drained.

export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;
  private isClosed = false;

  push(item: T): void {
    if (this.isClosed) return;
    this.items.push(item);
    this.wake?.();
  }

  close(): void {
    this.isClosed = true;
    this.wake?.();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      while (this.items.length > 0) yield this.items.shift() as T;
      if (this.isClosed) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}
