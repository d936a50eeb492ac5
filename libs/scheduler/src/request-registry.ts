// Where every live request is and what it holds: the id map, the waiting and running queues,
// the ids the workers must forget, and the state moves (admit, preempt, finish) that keep the
// KV block tables, the queues and each Request in step. The Scheduler decides; this records.

import type { BlockManager } from '../../kv-cache/src/block-manager';
import { type FinishReason, type Request } from './request';
import { RequestQueue } from './request-queue';
import type { FinishedRequest } from './scheduler-output';

/**
 * Rules: a request is in exactly one of waiting / running while live; only running requests hold
 * blocks; a request the workers know is queued for forgetting when it finishes or is preempted.
 */
export class RequestRegistry<P> {
  readonly waiting = new RequestQueue<P>();
  readonly running = new RequestQueue<P>();
  numPreemptions = 0;
  private readonly requests = new Map<number, Request<P>>();
  private forgetIds: number[] = [];

  constructor(private kvCache: BlockManager) {}

  get size(): number {
    return this.requests.size;
  }

  get(requestId: number): Request<P> | undefined {
    return this.requests.get(requestId);
  }

  /** Live, or finished but not yet forgotten by the workers. */
  isIdInUse(requestId: number): boolean {
    return this.requests.has(requestId) || this.forgetIds.includes(requestId);
  }

  /** Ids of the live requests the workers were told about. */
  knownToWorkerIds(): number[] {
    return [...this.requests.values()].filter((r) => r.isKnownToWorker).map((r) => r.requestId);
  }

  addWaiting(req: Request<P>): void {
    this.requests.set(req.requestId, req);
    this.waiting.insert(req);
  }

  /** Moves the head of waiting to running, with `numComputedTokens` already in the KV cache. */
  admit(req: Request<P>, numComputedTokens: number): void {
    this.waiting.remove(req);
    req.numComputedTokens = numComputedTokens;
    req.status = 'RUNNING';
    req.isKnownToWorker = true;
    this.running.insert(req);
  }

  /** Recompute preemption: drop the KV, keep the outputs (they become prompt to recompute). */
  preempt(req: Request<P>): void {
    this.running.remove(req);
    this.releaseBlocks(req);
    req.numComputedTokens = 0;
    req.numInFlightTokens = 0; // an in-flight step's work for it is void (its epoch changes below)
    req.numStaleSamples += req.numPendingSamples; // ...but what they sample still arrives
    req.numPendingSamples = 0;
    req.status = 'PREEMPTED';
    req.numPreemptions++;
    this.numPreemptions++;
    this.waiting.insert(req);
  }

  /**
   * Every running request back to waiting with nothing computed, on a fresh `kvCache`; no
   * request is known to any worker any more. Returns the ids that were running.
   */
  resetAll(kvCache: BlockManager): number[] {
    this.kvCache = kvCache;
    const wasRunning = this.running.removeWhere(() => true);
    for (const req of this.requests.values()) {
      req.blockIds.length = 0;
      req.numComputedTokens = 0;
      req.numInFlightTokens = 0;
      req.numPendingSamples = 0;
      req.numStaleSamples = 0; // the in-flight steps are dropped: nothing more arrives
      req.isKnownToWorker = false;
    }
    for (const req of wasRunning) {
      req.status = 'PREEMPTED';
      this.waiting.insert(req);
    }
    this.forgetIds = [];
    return wasRunning.map((r) => r.requestId);
  }

  /** Ends a request wherever it is, frees its blocks and returns the record to report. */
  finish(req: Request<P>, reason: FinishReason, detail?: string, stopTokenId?: number): FinishedRequest {
    this.waiting.remove(req);
    this.running.remove(req);
    this.releaseBlocks(req);
    req.finish(reason);
    this.requests.delete(req.requestId);
    const finished: FinishedRequest = { requestId: req.requestId, reason };
    if (stopTokenId !== undefined) finished.stopTokenId = stopTokenId;
    if (detail !== undefined) finished.detail = detail;
    return finished;
  }

  /** Finishes (reason 'abort') every request marked aborted or past its deadline at `now`. */
  reapAborted(now: number | undefined): FinishedRequest[] {
    const out: FinishedRequest[] = [];
    for (const req of [...this.requests.values()]) {
      const isExpired = now !== undefined && req.deadlineMs !== undefined && now >= req.deadlineMs;
      if (req.isAbortRequested || isExpired) out.push(this.finish(req, 'abort', req.isAbortRequested ? 'aborted' : 'timeout'));
    }
    return out;
  }

  /** The ids to send as `finished` with the next step (and forget them here). */
  takeForgetIds(): number[] {
    const ids = this.forgetIds;
    this.forgetIds = [];
    return ids;
  }

  private releaseBlocks(req: Request<P>): void {
    this.kvCache.free(req.requestId);
    req.blockIds.length = 0;
    if (req.isKnownToWorker) this.forgetIds.push(req.requestId);
    req.isKnownToWorker = false;
  }
}
