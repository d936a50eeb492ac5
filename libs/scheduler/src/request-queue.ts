// An ordered queue of requests (lower priority number first, then admission order), used for
// both the waiting and the running list: the head is scheduled first and the tail is the
// preemption victim. Sizes are bounded by maxWaiting / maxNumSeqs, so arrays are fine.

import { compareRequests, type Request } from './request';

export class RequestQueue<P> {
  private readonly items: Request<P>[] = [];

  get length(): number {
    return this.items.length;
  }

  /** Inserts in order; a request ties with nothing (admission order is unique). */
  insert(req: Request<P>): void {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareRequests(this.items[mid], req) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, req);
  }

  at(i: number): Request<P> | undefined {
    return this.items[i];
  }

  peek(): Request<P> | undefined {
    return this.items[0];
  }

  /** The last in order: lowest priority class, newest admission. */
  peekTail(): Request<P> | undefined {
    return this.items[this.items.length - 1];
  }

  shift(): Request<P> | undefined {
    return this.items.shift();
  }

  /** Removes `req` if queued; returns whether it was. */
  remove(req: Request<P>): boolean {
    const i = this.items.indexOf(req);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }

  /** Removes every request matching `pred`, returning them in queue order. */
  removeWhere(pred: (req: Request<P>) => boolean): Request<P>[] {
    const removed: Request<P>[] = [];
    for (let i = this.items.length - 1; i >= 0; i--) {
      if (pred(this.items[i])) removed.unshift(...this.items.splice(i, 1));
    }
    return removed;
  }

  toArray(): readonly Request<P>[] {
    return this.items.slice();
  }
}
