// The continuous-batching scheduler (vLLM V1 model): each step spends a token budget on the
// running requests first (decodes, continuing prefill chunks), then admits waiting ones in
// priority/FCFS order, chunking long prompts, skipping prefix-cache hits, and preempting the
// newest running request (recompute) when KV blocks run out. A waiting request whose prompt
// blocks a running one is computing right now waits for them (shared prefill, n > 1). With
// maxPrefillStepRatio, prompt chunks are sized by a cost model fitted from reported step times
// (prefill-budget.ts). With async scheduling it plans step N+1 while N runs (in-flight-steps.ts).
// Pure logic: scheduler*.spec.ts run it against a fake worker.

import { BlockManager } from '../../kv-cache/src/block-manager';
import { InvalidRequestError, QueueFullError } from './errors';
import { Request, type RequestInit, validateRequestInit } from './request';
import { RequestRegistry } from './request-registry';
import { type SchedulerConfig, validateSchedulerConfig } from './scheduler-config';
import { InFlightSteps, reconcileStep } from './in-flight-steps';
import { addScheduled, emptySchedulerOutput } from './scheduler-output';
import type { RequestUpdate, SampledToken, SchedulerOutput, SchedulerStats } from './scheduler-output';
import { PrefillBudget } from './prefill-budget';
import { isWaitingForSharedPrefill } from './shared-prefill';
import { chunkPairs, type StepCostCoefficients, type StepWork } from './step-cost-model';
import { checkStop } from './stop-check';

/**
 * Rules: one step in flight (schedule, run it, updateFromOutput, repeat; an output with nothing
 * scheduled needs no update but its finishedIds must still reach the workers). With
 * asyncScheduling, schedule() may run once more while a step is unreported, and that step is
 * sent at once: the workers run steps in order and fill its placeholders with the tokens they
 * sampled; after the unreported one reported, resolvePlaceholders() settles it here. A request id is the
 * workers' seqId and must stay unique until the workers were told to forget it.
 */
export class Scheduler<P = unknown> {
  readonly config: Readonly<SchedulerConfig>;
  private blockManager: BlockManager;
  private readonly registry: RequestRegistry<P>;
  private readonly inFlight = new InFlightSteps<P>();
  private readonly prefillBudget: PrefillBudget | undefined;
  private numPromptTokensComputed = 0;
  private nextArrivalSeq = 0;
  private nextStepId = 0;

  constructor(config: SchedulerConfig) {
    validateSchedulerConfig(config);
    this.config = { ...config };
    this.blockManager = this.newBlockManager(config.numBlocks);
    this.registry = new RequestRegistry<P>(this.blockManager);
    const ratio = config.maxPrefillStepRatio;
    this.prefillBudget = ratio === undefined ? undefined : new PrefillBudget(ratio, 1);
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
    if (this.inFlight.length > this.stepsAhead) {
      throw new Error(this.config.asyncScheduling
        ? `schedule() called with ${this.inFlight.length} steps unreported (async scheduling runs ${this.stepsAhead} step(s) ahead)`
        : 'schedule() called before updateFromOutput() of the previous step');
    }
    const { running, waiting } = this.registry;
    const out = emptySchedulerOutput<P>(this.nextStepId++);
    out.finishedRequests.push(...this.registry.reapAborted(now));
    let budget = this.config.maxNumBatchedTokens;
    this.prefillBudget?.startStep(this.decodeWork());

    // running requests first: one decode token each, or their next prefill chunk
    for (let i = 0; i < running.length && budget > 0; ) {
      const req = running.at(i) as Request<P>;
      const n = this.capUnreadySample(req, req.numScheduledTokens, this.capByCost(req.numScheduledTokens, Math.min(this.numToSchedule(req), budget)));
      if (n === 0) {
        i++; // async: its unreported token is its last allowed one
        continue;
      }
      const newBlockIds = this.allocateOrPreempt(req, n, out);
      if (newBlockIds === null) continue; // req left the running list (it was the tail)
      this.emit(req, n, newBlockIds, out);
      budget -= n;
      i++;
    }

    // then waiting requests in order; none in a step that preempted (they just lost blocks)
    for (let w = 0; out.preemptedIds.length === 0 && budget > 0 && running.length < this.config.maxNumSeqs; ) {
      const req = waiting.at(w);
      if (req === undefined) break;
      if (!this.kvCache.canEverFit(req.numTokens)) {
        out.finishedRequests.push(this.registry.finish(req, 'error', 'the prompt needs more KV blocks than exist'));
        continue;
      }
      // prefix-cache hit: skip the computed blocks (never the whole prompt)
      const computed = this.kvCache.getComputedBlocks(req);
      if (req.numStaleSamples > 0 || isWaitingForSharedPrefill(req, computed, running, this.kvCache)) {
        w++; // a token from before its preemption is still coming, or (shared prefill) a running request computes its next blocks
        continue;
      }
      const remaining = req.numTokens - computed.numComputedTokens;
      if (!this.config.enableChunkedPrefill && remaining > budget) break;
      const affordable = this.capByCost(computed.numComputedTokens, Math.min(this.capChunk(remaining), budget));
      if (affordable === 0) break; // the step's prefill cost budget is spent
      const n = this.capUnreadySample(req, computed.numComputedTokens, affordable);
      if (n === 0) {
        w++; // its first sample is not ready and nothing else is left to compute
        continue;
      }
      const newBlockIds = this.kvCache.allocateSlots(req, n, computed);
      if (newBlockIds === null) break;
      this.registry.admit(req, computed.numComputedTokens);
      out.newRequests.push({ requestId: req.requestId, samplingParams: req.samplingParams, numPromptTokens: req.numPromptTokens });
      this.emit(req, n, newBlockIds, out);
      budget -= n;
    }

    out.finishedIds = this.registry.takeForgetIds();
    if (out.scheduled.length > 0) this.inFlight.push(out, this.registry);
    return out;
  }

  /**
   * Async scheduling: call once the step before `out` reported (updateFromOutput); `out` went to
   * the workers before that, with placeholders the workers fill themselves. Fills them in here
   * too. An entry whose request ended meanwhile (a late stop / EOS, an abort) stays: the workers
   * compute its speculative token, updateFromOutput drops it, and the blocks it wrote are freed
   * (the forget goes with a later step, which the workers run after this one). A no-op for a
   * step that was not scheduled ahead.
   */
  resolvePlaceholders(out: SchedulerOutput<P>): SchedulerOutput<P> {
    const step = this.inFlight.find(out);
    if (step === undefined) return out;
    if (step !== this.inFlight.head) throw new Error('resolvePlaceholders() before the step ahead of it reported');
    reconcileStep(step, this.registry);
    return out;
  }

  /**
   * Applies the step's results: advances numComputedTokens, caches newly full blocks, appends
   * each sampled token and stops requests on eos / stop ids / maxTokens / maxModelLen, freeing
   * their blocks. Every scheduled entry with sample=true needs a token (else it throws and
   * changes nothing); tokens for requests aborted meanwhile are dropped.
   */
  updateFromOutput(output: SchedulerOutput<P>, sampled: readonly SampledToken[]): RequestUpdate[] {
    const step = this.inFlight.head;
    if (output.scheduled.length === 0 && step?.out !== output) return [];
    if (step === undefined || output !== step.out) throw new Error('updateFromOutput() expects the output of the oldest unreported schedule()');
    const tokens = new Map(sampled.map((s) => [s.requestId, s.token]));
    const live = (id: number): Request<P> | undefined => {
      const req = this.registry.get(id);
      return req === undefined || req.isAbortRequested ? undefined : req;
    };
    const missing = output.scheduled.find((e) => e.sample && live(e.requestId) !== undefined && !tokens.has(e.requestId));
    if (missing !== undefined) throw new Error(`no sampled token for request ${missing.requestId} in step ${output.stepId}`);
    this.inFlight.shift();
    const updates: RequestUpdate[] = [];
    output.scheduled.forEach((e, i) => {
      const req = live(e.requestId);
      if (req === undefined) return; // aborted meanwhile: freed by the next schedule()
      // preempted after this step was scheduled (async): its KV is gone, its sampled token is not
      const isCurrent = req.numPreemptions === step.epochs[i];
      if (isCurrent) {
        req.numInFlightTokens -= e.tokens.length;
        req.numComputedTokens += e.tokens.length;
        this.kvCache.cacheBlocks(req);
      }
      if (!e.sample) return;
      if (isCurrent) req.numPendingSamples--;
      else req.numStaleSamples = Math.max(0, req.numStaleSamples - 1);
      const token = tokens.get(e.requestId) as number;
      req.appendOutputToken(token);
      const update: RequestUpdate = { requestId: req.requestId, token };
      const stop = checkStop(req, this.config.eosTokenIds ?? [], this.config.maxModelLen);
      if (stop !== null) update.finished = this.registry.finish(req, stop.reason, undefined, stop.stopTokenId);
      updates.push(update);
    });
    return updates;
  }

  /**
   * Feeds the prefill cost budget (maxPrefillStepRatio): `out` was computed by the workers in
   * `seconds` (their compute time, not the wait before it). A no-op without the budget.
   */
  recordStepTime(out: SchedulerOutput<P>, seconds: number): void {
    this.prefillBudget?.observe(out, seconds);
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
    this.inFlight.clear();
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
   * Async scheduling: `planned`, the steps sent after the rejected one (oldest first), each ran
   * on the workers after it or was rejected too (`hasRun`, from its reply): what a step admitted
   * is known to the workers only if it ran, and what it forgot is forgotten only if it ran.
   */
  resetAfterRejectedStep(rejected: SchedulerOutput<P>, planned: ReadonlyArray<{ out: SchedulerOutput<P>; hasRun: boolean }> = []): { resumed: number[]; forgetIds: number[] } {
    // what the workers hold if every sent step ran (known ids, forgets not sent yet), undone step
    // by step back to before the rejected one, then redone for the planned steps that ran
    const known = new Set([...this.registry.takeForgetIds(), ...this.registry.knownToWorkerIds()]);
    for (const out of [rejected, ...planned.map((p) => p.out)].reverse()) {
      for (const r of out.newRequests) known.delete(r.requestId);
      for (const id of out.finishedIds) known.add(id);
    }
    for (const { out, hasRun } of planned) {
      if (!hasRun) continue;
      for (const id of out.finishedIds) known.delete(id);
      for (const r of out.newRequests) known.add(r.requestId);
    }
    return { resumed: this.resetAfterWorkerLoss(this.blockManager.numBlocks), forgetIds: [...known] };
  }

  /**
   * The prefill budget's fitted step-cost model (seconds per step, token, attention pair);
   * undefined without the budget or before it has seen enough steps.
   */
  get stepCostCoefficients(): StepCostCoefficients | undefined {
    return this.prefillBudget?.model.coefficients;
  }

  /**
   * Steps schedule() may plan while older ones are unreported (0: synchronous). One while a
   * running request cannot be speculated: it sits out every step planned before its token is
   * known, so with two ahead it would advance one step in three instead of one in two.
   */
  get stepsAhead(): number {
    if (this.config.asyncScheduling !== true) return 0;
    const max = this.config.maxStepsAhead ?? 1;
    return max > 1 && this.hasUnspeculableRunning ? 1 : max;
  }

  /** Whether a running request's next input waits for its token (structured output, forced tokens). */
  get hasUnspeculableRunning(): boolean {
    return this.registry.running.toArray().some((r) => !r.isSpeculationAllowed);
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
      numPromptTokensComputed: this.numPromptTokensComputed,
    };
  }

  // Tokens left to schedule; async: a token still being sampled counts (a placeholder), unless
  // it is the request's last allowed one (then it ends with it: nothing to speculate).
  private numToSchedule(req: Request<P>): number {
    const pending = req.numPendingSamples;
    if (pending > 0 && !req.isSpeculationAllowed) return 0; // its next input waits for its token
    if (pending > 0 && (req.numOutputTokens + pending >= req.maxTokens || req.numTokens + pending >= this.config.maxModelLen)) return 0;
    return this.capChunk(req.numTokens + pending - req.numScheduledTokens);
  }

  // n tokens from `start`, one fewer when they would end in a sample that is not ready (see
  // isSampleReady); a request whose sample can be unready is never speculated (isSpeculationAllowed
  // false), so it has no token still being sampled when this runs
  private capUnreadySample(req: Request<P>, start: number, n: number): number {
    const isReady = this.config.isSampleReady;
    if (isReady === undefined || n === 0 || req.numPendingSamples > 0 || start + n !== req.numTokens) return n;
    return isReady(req.requestId) ? n : n - 1;
  }

  private newBlockManager(numBlocks: number): BlockManager {
    return new BlockManager({ numBlocks, blockSize: this.config.blockSize, enablePrefixCaching: this.config.enablePrefixCaching });
  }

  // the prefill cost budget's cap on a chunk of n tokens from `start` (n itself without one)
  private capByCost(start: number, n: number): number {
    return this.prefillBudget === undefined ? n : this.prefillBudget.cap(start, n);
  }

  // the step's decodes (running requests with one token to compute): the budget's reference step
  private decodeWork(): StepWork {
    const work = { numTokens: 0, numPairs: 0 };
    if (this.prefillBudget === undefined) return work;
    for (let i = 0; i < this.registry.running.length; i++) {
      const req = this.registry.running.at(i) as Request<P>;
      if (this.numToSchedule(req) !== 1) continue;
      work.numTokens++;
      work.numPairs += chunkPairs(req.numScheduledTokens, 1);
    }
    return work;
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
    const start = req.numScheduledTokens;
    this.prefillBudget?.charge(start, n);
    addScheduled(out, req.requestId, req.allTokens, start, n, newBlockIds, req.numPendingSamples);
    this.numPromptTokensComputed += Math.max(0, Math.min(start + n, req.numPromptTokens) - start);
    req.numInFlightTokens += n;
    if (start + n === req.numTokens + req.numPendingSamples) req.numPendingSamples++;
  }
}
