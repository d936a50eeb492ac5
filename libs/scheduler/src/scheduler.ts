// The continuous-batching scheduler (vLLM V1 model): each step spends a token budget on the
// running requests first (decodes, continuing prefill chunks), then admits waiting ones in
// priority/FCFS order, chunking long prompts, skipping prefix-cache hits, and preempting the
// newest running request (recompute) when KV blocks run out. Pure logic: scheduler*.spec.ts
// run it against a fake worker.

import { BlockManager } from '../../kv-cache/src/block-manager';
import { InvalidRequestError, QueueFullError } from './errors';
import { Request, type RequestInit, validateRequestInit } from './request';
import { RequestRegistry } from './request-registry';
import { type SchedulerConfig, validateSchedulerConfig } from './scheduler-config';
import { addScheduled, emptySchedulerOutput } from './scheduler-output';
import type { RequestUpdate, SampledToken, SchedulerOutput, SchedulerStats } from './scheduler-output';
import { checkStop } from './stop-check';

/**
 * Rules: one step in flight (schedule, run it, updateFromOutput, repeat; an output with nothing
 * scheduled needs no update but its finishedIds must still reach the workers). A request id is
 * the workers' seqId and must stay unique until the workers were told to forget it.
 */
export class Scheduler<P = unknown> {
  readonly config: Readonly<SchedulerConfig>;
  private blockManager: BlockManager;
  private readonly registry: RequestRegistry<P>;
  private inFlight: SchedulerOutput<P> | null = null;
  private nextArrivalSeq = 0;
  private nextStepId = 0;

  constructor(config: SchedulerConfig) {
    validateSchedulerConfig(config);
    this.config = { ...config };
    this.blockManager = this.newBlockManager(config.numBlocks);
    this.registry = new RequestRegistry<P>(this.blockManager);
  }

  /**
   * Queues a request. Throws InvalidRequestError (empty prompt, id in use, bad limits),
   * ContextLengthExceededError (prompt + maxTokens > maxModelLen) or QueueFullError when the
   * running slots and the waiting bound are all taken (capacity, not timing: requests that
   * arrive before the next schedule() may fill the free running slots).
   */
  addRequest(init: RequestInit<P>): Readonly<Request<P>> {
    if (this.registry.isIdInUse(init.requestId)) throw new InvalidRequestError(`request id ${init.requestId} is in use`);
    const maxTokens = validateRequestInit(init, this.config.maxModelLen);
    if (this.registry.size >= this.config.maxNumSeqs + this.config.maxWaiting) throw new QueueFullError(this.config.maxWaiting);
    const req = new Request<P>(init, this.nextArrivalSeq++, maxTokens);
    this.registry.addWaiting(req);
    return req;
  }

  /** Marks a live request aborted; the next schedule() frees it and reports it. */
  abortRequest(requestId: number): boolean {
    const req = this.registry.get(requestId);
    if (req !== undefined) req.isAbortRequested = true;
    return req !== undefined;
  }

  /**
   * Decides the next step. `now` (the caller's clock, same unit as deadlineMs) expires requests
   * past their deadline. Aborted and expired requests are freed first and reported in
   * finishedRequests; numBatchedTokens never exceeds maxNumBatchedTokens.
   */
  schedule(now?: number): SchedulerOutput<P> {
    if (this.inFlight !== null) throw new Error('schedule() called before updateFromOutput() of the previous step');
    const { running, waiting } = this.registry;
    const out = emptySchedulerOutput<P>(this.nextStepId++);
    out.finishedRequests.push(...this.registry.reapAborted(now));
    let budget = this.config.maxNumBatchedTokens;

    // running requests first: one decode token each, or their next prefill chunk
    for (let i = 0; i < running.length && budget > 0; ) {
      const req = running.at(i) as Request<P>;
      const n = Math.min(this.capChunk(req.numTokens - req.numComputedTokens), budget);
      const newBlockIds = this.allocateOrPreempt(req, n, out);
      if (newBlockIds === null) continue; // req left the running list (it was the tail)
      this.emit(req, n, newBlockIds, out);
      budget -= n;
      i++;
    }

    // then waiting requests in order; none in a step that preempted (they just lost blocks)
    while (out.preemptedIds.length === 0 && budget > 0 && running.length < this.config.maxNumSeqs) {
      const req = waiting.peek();
      if (req === undefined) break;
      if (!this.kvCache.canEverFit(req.numTokens)) {
        out.finishedRequests.push(this.registry.finish(req, 'error', 'the prompt needs more KV blocks than exist'));
        continue;
      }
      // prefix-cache hit: skip the computed blocks (never the whole prompt)
      const computed = this.kvCache.getComputedBlocks(req);
      const remaining = req.numTokens - computed.numComputedTokens;
      if (!this.config.enableChunkedPrefill && remaining > budget) break;
      const n = Math.min(this.capChunk(remaining), budget);
      const newBlockIds = this.kvCache.allocateSlots(req, n, computed);
      if (newBlockIds === null) break;
      this.registry.admit(req, computed.numComputedTokens);
      out.newRequests.push({ requestId: req.requestId, samplingParams: req.samplingParams, numPromptTokens: req.numPromptTokens });
      this.emit(req, n, newBlockIds, out);
      budget -= n;
    }

    out.finishedIds = this.registry.takeForgetIds();
    if (out.scheduled.length > 0) this.inFlight = out;
    return out;
  }

  /**
   * Applies the step's results: advances numComputedTokens, caches newly full blocks, appends
   * each sampled token and stops requests on eos / stop ids / maxTokens / maxModelLen, freeing
   * their blocks. Every scheduled entry with sample=true needs a token (else it throws and
   * changes nothing); tokens for requests aborted meanwhile are dropped.
   */
  updateFromOutput(output: SchedulerOutput<P>, sampled: readonly SampledToken[]): RequestUpdate[] {
    if (output.scheduled.length === 0) return [];
    if (output !== this.inFlight) throw new Error('updateFromOutput() expects the output of the last schedule()');
    const tokens = new Map(sampled.map((s) => [s.requestId, s.token]));
    const live = (id: number): Request<P> | undefined => {
      const req = this.registry.get(id);
      return req === undefined || req.isAbortRequested ? undefined : req;
    };
    const missing = output.scheduled.find((e) => e.sample && live(e.requestId) !== undefined && !tokens.has(e.requestId));
    if (missing !== undefined) throw new Error(`no sampled token for request ${missing.requestId} in step ${output.stepId}`);
    this.inFlight = null;
    const updates: RequestUpdate[] = [];
    for (const e of output.scheduled) {
      const req = live(e.requestId);
      if (req === undefined) continue; // aborted meanwhile: freed by the next schedule()
      req.numComputedTokens += e.tokens.length;
      this.kvCache.cacheBlocks(req);
      if (!e.sample) continue;
      const token = tokens.get(e.requestId) as number;
      req.appendOutputToken(token);
      const update: RequestUpdate = { requestId: req.requestId, token };
      const stop = checkStop(req, this.config.eosTokenIds ?? [], this.config.maxModelLen);
      if (stop !== null) update.finished = this.registry.finish(req, stop.reason, undefined, stop.stopTokenId);
      updates.push(update);
    }
    return updates;
  }

  /**
   * Recovery after the workers were replaced (a dead or hung rank): the new ones hold no
   * sequence and no KV, so the in-flight step is dropped, every running request goes back to
   * waiting as a recompute (prompt + the outputs so far, exactly like a preemption, but not
   * counted as one), nothing is left to forget, and the KV pool restarts empty with `numBlocks`
   * blocks (the new group's count; the old prefix cache described KV that is gone).
   * Returns the ids of the requests that were running.
   */
  resetAfterWorkerLoss(numBlocks: number): number[] {
    this.inFlight = null;
    this.blockManager = this.newBlockManager(numBlocks);
    return this.registry.resetAll(this.blockManager);
  }

  /**
   * A step every rank rejected before changing any state (one sequence failed the workers'
   * validation; the caller aborts it): the workers still know exactly what they knew before it.
   * Chosen as the simplest provably consistent view: the same reset as after a worker loss (the
   * step is dropped, every running request recomputes, the KV pool restarts empty with as many
   * blocks), and the caller sends `forgetIds` (every id the workers still know: the rejected
   * step's finished ids, those queued to forget since, the running ones it did not newly admit)
   * as a step of its own before the next schedule().
   */
  resetAfterRejectedStep(rejected: SchedulerOutput<P>): { resumed: number[]; forgetIds: number[] } {
    const admittedByIt = new Set(rejected.newRequests.map((r) => r.requestId));
    const known = new Set(rejected.finishedIds);
    for (const id of [...this.registry.takeForgetIds(), ...this.registry.knownToWorkerIds()]) {
      if (!admittedByIt.has(id)) known.add(id);
    }
    return { resumed: this.resetAfterWorkerLoss(this.blockManager.numBlocks), forgetIds: [...known] };
  }

  get kvCache(): BlockManager {
    return this.blockManager;
  }

  /** A live (unfinished) request, read-only. */
  getRequest(requestId: number): Readonly<Request<P>> | undefined {
    return this.registry.get(requestId);
  }

  /** Requests not finished yet (waiting, preempted or running). */
  get numUnfinishedRequests(): number {
    return this.registry.size;
  }

  getStats(): SchedulerStats {
    return {
      numRunning: this.registry.running.length,
      numWaiting: this.registry.waiting.length,
      numFreeBlocks: this.kvCache.numFreeBlocks,
      kvUsage: this.kvCache.usage,
      prefixCacheHitRate: this.kvCache.prefixCacheHitRate,
      numPrefixQueryTokens: this.kvCache.numPrefixQueryTokens,
      numPrefixHitTokens: this.kvCache.numPrefixHitTokens,
      numPreemptions: this.registry.numPreemptions,
    };
  }

  private newBlockManager(numBlocks: number): BlockManager {
    return new BlockManager({ numBlocks, blockSize: this.config.blockSize, enablePrefixCaching: this.config.enablePrefixCaching });
  }

  private capChunk(n: number): number {
    const t = this.config.longPrefillTokenThreshold;
    return this.config.enableChunkedPrefill && t !== undefined && n > t ? t : n;
  }

  // Allocates slots for a running request, preempting from the tail of the running list until it
  // fits. Returns null when `req` itself was preempted or can never fit (finished with error).
  private allocateOrPreempt(req: Request<P>, n: number, out: SchedulerOutput<P>): number[] | null {
    for (;;) {
      const ids = this.kvCache.allocateSlots(req, n);
      if (ids !== null) return ids;
      const victim = this.registry.running.peekTail() as Request<P>;
      if (victim === req && this.registry.running.length === 1) {
        // alone and still out of blocks: waiting would loop forever
        out.finishedRequests.push(this.registry.finish(req, 'error', 'the request needs more KV blocks than exist'));
        return null;
      }
      this.registry.preempt(victim);
      out.preemptedIds.push(victim.requestId);
      if (victim === req) return null;
    }
  }

  private emit(req: Request<P>, n: number, newBlockIds: number[], out: SchedulerOutput<P>): void {
    req.blockIds.push(...newBlockIds);
    addScheduled(out, req.requestId, req.allTokens, req.numComputedTokens, n, newBlockIds);
  }
}
