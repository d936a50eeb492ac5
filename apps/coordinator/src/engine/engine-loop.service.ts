// EngineLoopService: owns the Scheduler and the StepExecutor (the supervised worker group) and
// runs the one step loop of the replica: schedule() → StepInput → step() on every rank →
// updateFromOutput → each sequence's listener gets its new token (and forced tokens, see
// TokenForcer). One step on the workers at a time; the next is planned while it runs (async
// scheduling) and listeners run after it was sent. The loop runs while there is work.
// Faults: a worker fault (exit, hang, failed step) is recovered, not failed: the group is
// replaced (WorkerRecovery) and every running sequence recomputes its prompt + tokens so far, so
// streams pause and continue. A step the workers rejected for one sequence ends that request
// alone (500) and the others recompute on the same workers (blameSequence). Past the restart
// budget the engine is broken for good (/health 503). A throwing listener ends its own request
// only (LiveSequences). drain() serves SIGTERM.
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { SamplingParams, StepOutput } from '../../../../libs/native/src/types';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import { Scheduler } from '../../../../libs/scheduler/src/scheduler';
import type { FinishedRequest, SchedulerOutput } from '../../../../libs/scheduler/src/scheduler-output';
import { WorkerGroupError } from '../../../../libs/worker-group/src/worker-group';
import { MetricsService } from '../metrics/metrics.service';
import type { SequenceRequest, TokenEvent } from './engine-request';
import { ForcedTokens } from './forced-token-delivery';
import { finishQuietly, LiveSequences } from './live-sequences';
import { ModelRuntime } from './model-runtime';
import { schedulerErrorToOpenAi } from './scheduler-errors';
import { buildStepInput } from './step-input-builder';
import { WorkerRecovery } from './worker-recovery';

const IDLE_POLL_MS = 2;
const DRAIN_POLL_MS = 50;

interface SentStep {
  out: SchedulerOutput<SamplingParams>;
  reply: Promise<StepOutput>;
  started: number;
}

@Injectable()
export class EngineLoopService implements OnModuleDestroy {
  private readonly logger = new Logger('EngineLoop');
  readonly scheduler: Scheduler<SamplingParams>;
  private readonly live: LiveSequences;
  private readonly recovery: WorkerRecovery;
  private readonly forced: ForcedTokens;
  private nextRequestId = 1;
  private loop: Promise<void> | undefined;
  /** Set once the restart budget is spent: the engine never generates again. */
  private broken: OpenAiError | undefined;
  /** The step on the workers whose result is not applied yet. */
  private sent: SentStep | undefined;
  /** The fault the loop must recover from before its next step. */
  private pendingFault: WorkerGroupError | undefined;
  private isClosing = false;
  /** A worker group is being replaced (/ready answers 503). */
  isRecovering = false;
  /** SIGTERM: no new requests, running ones finish (/ready answers 503). */
  isDraining = false;
  /** Date.now() of the last completed step (or of start). */
  lastProgressAt = Date.now();

  constructor(
    @Inject(ModelRuntime) private readonly runtime: ModelRuntime,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {
    const { config, info } = runtime;
    this.scheduler = new Scheduler<SamplingParams>({
      maxNumBatchedTokens: config.maxNumBatchedTokens,
      maxNumSeqs: config.maxNumSeqs,
      maxWaiting: config.maxWaiting,
      enableChunkedPrefill: true,
      blockSize: info.kvBlockSize,
      numBlocks: info.numKvBlocks,
      maxModelLen: runtime.maxModelLen,
      enablePrefixCaching: true,
      eosTokenIds: runtime.eosTokenIds,
      asyncScheduling: config.asyncScheduling,
      // structured outputs: a sequence whose next mask is still being computed sits out the step
      isSampleReady: (id) => this.live.get(id)?.constraint?.isReady() ?? true,
    });
    this.live = new LiveSequences(
      (id, err, request) => this.onListenerFault(id, err, request),
      (id, err) => this.logListenerError(id, err),
    );
    this.forced = new ForcedTokens(
      this.scheduler,
      this.live,
      (id, err, request) => this.onListenerFault(id, err, request),
      (id, err) => this.logListenerError(id, err),
    );
    this.recovery = new WorkerRecovery(runtime.executor, config.restartBudget, metrics, this.logger);
    this.setWorkersUp(undefined);
    runtime.executor.onFailure((err) => {
      this.pendingFault ??= err;
      if (err.rank !== undefined) this.metrics.setWorkerUp(err.rank, false);
      this.kick();
    });
  }

  /** Why the engine can never serve again (restart budget spent), or undefined. */
  get brokenReason(): string | undefined {
    return this.broken?.message;
  }

  /** Whether the engine takes and serves requests now (not broken, recovering, draining or closing). */
  get isHealthy(): boolean {
    return this.broken === undefined && !this.isRecovering && !this.isDraining && !this.isClosing;
  }

  get isIdle(): boolean {
    return this.scheduler.numUnfinishedRequests === 0;
  }

  get numLiveSequences(): number {
    return this.live.size;
  }

  /**
   * Queues a sequence; returns its id. Throws OpenAiError: 503 when the engine is broken or
   * shutting down, 429 when the running slots and the waiting queue are full, 400 when the
   * prompt and max tokens do not fit the context. During a recovery requests queue as usual.
   */
  submit(request: SequenceRequest): number {
    if (this.broken) throw this.broken;
    if (this.isClosing || this.isDraining) throw new OpenAiError(503, 'The server is shutting down.', null, 'shutting_down');
    const requestId = this.nextRequestId++;
    try {
      this.scheduler.addRequest({
        requestId,
        promptTokens: request.promptTokens,
        samplingParams: { ...request.params, vocabLimit: this.runtime.vocabLimit },
        maxTokens: request.maxTokens,
        minTokens: request.minTokens,
        stopTokenIds: request.stopTokenIds,
        ignoreEos: request.ignoreEos,
        priority: request.priority,
        arrivalTimeMs: Date.now(),
        deadlineMs: request.deadlineMs,
      });
    } catch (err) {
      throw schedulerErrorToOpenAi(err);
    }
    this.live.add(requestId, request);
    const forced = request.forcer?.start() ?? [];
    // The tokens join the sequence before its first schedule(); its listener hears of them only
    // after submit() returned the id (a stop string matching them must be able to abort it).
    if (forced.length > 0) queueMicrotask(this.forced.append(requestId, forced));
    this.kick();
    return requestId;
  }

  /** Stops a sequence (client gone, stop string matched); its blocks are freed by the next step. No more events. */
  abort(requestId: number): void {
    if (this.live.delete(requestId) === undefined) return;
    this.scheduler.abortRequest(requestId);
    this.kick();
  }

  /**
   * SIGTERM: refuse new requests (503 shutting_down, /ready 503) and let running and queued ones
   * finish for up to `timeoutMs`. Resolves with the number still unfinished (onModuleDestroy
   * ends them with an error).
   */
  async drain(timeoutMs: number): Promise<number> {
    this.isDraining = true;
    const until = Date.now() + timeoutMs;
    while (this.live.size > 0 && this.broken === undefined && Date.now() < until) {
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
    return this.live.size;
  }

  /** Shutdown: sequences still live end with a 503 (their clients get an error, not a hang). */
  async onModuleDestroy(): Promise<void> {
    this.isClosing = true;
    const error = new OpenAiError(503, 'The server shut down before this request finished.', null, 'shutting_down');
    for (const id of this.live.ids()) this.scheduler.abortRequest(id);
    this.live.finishAll({ reason: 'error', error });
    await this.loop;
  }

  private kick(): void {
    if (this.loop !== undefined || this.broken || this.isClosing) return;
    this.loop = this.run().finally(() => {
      this.loop = undefined;
      if (this.pendingFault !== undefined || this.scheduler.numUnfinishedRequests > 0) this.kick();
    });
  }

  private async run(): Promise<void> {
    while (!this.broken && !this.isClosing) {
      if (this.pendingFault !== undefined) {
        await this.recover();
        continue;
      }
      try {
        if (!(await this.runStep())) return;
      } catch (err) {
        // only executor / worker failures get here (listeners are contained): recover
        this.pendingFault ??= err instanceof WorkerGroupError ? err : new WorkerGroupError(`the step failed: ${err instanceof Error ? err.message : String(err)}`, undefined, 'step_error');
      }
    }
  }

  /**
   * One scheduler iteration; false when there is nothing left to do. Pipelined: the next step is
   * planned while the sent one runs (async scheduling), the sent one is reported, the next one
   * reconciled and sent at once, and only then do listeners (detokenizer, parsers, SSE) get the
   * reported tokens, while the workers compute. The workers wait for updateFromOutput, the
   * forcer, reconciliation and one encoding only.
   */
  private async runStep(): Promise<boolean> {
    const isAsync = this.scheduler.config.asyncScheduling === true;
    let deliveries: Array<() => void> = [];
    if (!isAsync && this.sent) {
      const reported = await this.reportSentOrBlame();
      if (reported === undefined) return true;
      deliveries = reported;
    }
    const out = this.scheduler.schedule(Date.now());
    if (isAsync && this.sent) {
      const reported = await this.reportSentOrBlame(out);
      if (reported === undefined) return true;
      deliveries = reported;
    }
    this.scheduler.resolvePlaceholders(out);
    if (out.scheduled.length > 0) {
      const reply = this.runtime.executor.step(buildStepInput(out, (id) => this.scheduler.getRequest(id)?.allTokens, (id) => this.live.get(id)?.constraint?.mask()));
      reply.catch(() => undefined); // observed by reportSent(); a fault is recovered there
      this.sent = { out, reply, started: performance.now() };
    } else if (out.finishedIds.length > 0) {
      await this.runtime.executor.step({ stepId: out.stepId, newSequences: [], scheduled: [], finished: out.finishedIds });
    }
    for (const { requestId } of out.newRequests) this.live.admitted(requestId, this.scheduler.getRequest(requestId)?.numComputedTokens ?? 0);
    this.reportFinished(out.finishedRequests);
    for (const deliver of deliveries) deliver();
    this.metrics.recordSchedulerStats(this.scheduler.getStats());
    if (this.sent === undefined) {
      if (this.scheduler.numUnfinishedRequests === 0) return false;
      await new Promise((r) => setTimeout(r, IDLE_POLL_MS)); // nothing schedulable right now
    }
    return true;
  }

  /**
   * reportSent(), or, when every rank rejected the sent step for one sequence, blameSequence()
   * and undefined: the step `planned` meanwhile (async scheduling) is dropped with the reset,
   * but the requests it finished still get their finish.
   */
  private async reportSentOrBlame(planned?: SchedulerOutput<SamplingParams>): Promise<Array<() => void> | undefined> {
    const rejected = (this.sent as SentStep).out;
    try {
      return await this.reportSent();
    } catch (err) {
      if (!(err instanceof WorkerGroupError) || err.kind !== 'sequence') throw err;
      await this.blameSequence(err, rejected, planned);
      if (planned !== undefined) this.reportFinished(planned.finishedRequests);
      return undefined;
    }
  }

  /**
   * Waits for the sent step and applies it to the scheduler, forced tokens included (the next
   * step must see them before it is reconciled). Returns the listener deliveries, in order.
   */
  private async reportSent(): Promise<Array<() => void>> {
    const { out, reply, started } = this.sent as SentStep;
    this.sent = undefined;
    const result = await reply;
    this.lastProgressAt = Date.now();
    this.metrics.recordStep((performance.now() - started) / 1000, out.numBatchedTokens);
    const samples = new Map(result.samples.map((s) => [s.seqId, s]));
    const updates = this.scheduler.updateFromOutput(out, result.samples.map((s) => ({ requestId: s.seqId, token: s.token })));
    const deliveries: Array<() => void> = [];
    for (const update of updates) {
      const id = update.requestId;
      const seq = this.live.get(id);
      if (seq === undefined) continue;
      const sample = samples.get(id);
      const event: TokenEvent = { token: update.token, logprob: sample?.logprob ?? 0, topLogprobs: sample?.topLogprobs ?? [], isForced: false };
      // the constraint hears the token now, before the next step (sent right after this) asks for its mask
      seq.constraint?.onToken(update.token);
      const forced = update.finished === undefined ? this.forced.next(id, seq, update.token) : [];
      const deliverForced = forced.length > 0 ? this.forced.append(id, forced) : undefined;
      const isEndedByForce = deliverForced !== undefined && !this.live.has(id); // forced tokens filled max tokens
      deliveries.push(() => {
        if (isEndedByForce) {
          try {
            seq.listener.onToken(event);
          } catch (err) {
            return this.onListenerFault(id, err, seq);
          }
        } else if (!this.live.token(id, event)) {
          return; // aborted meanwhile (stop string, client gone) or its listener failed
        }
        if (update.finished !== undefined) this.reportFinished([update.finished]);
        deliverForced?.();
      });
    }
    return deliveries;
  }

  private reportFinished(finished: readonly FinishedRequest[]): void {
    for (const f of finished) {
      if (f.reason === 'error') {
        const error = OpenAiError.invalid(f.detail ?? 'the request cannot be served', null, 'request_too_large');
        this.live.finish(f.requestId, { reason: 'error', detail: f.detail, error });
      } else {
        this.live.finish(f.requestId, { reason: f.reason, detail: f.detail });
      }
    }
  }

  /** Replaces the worker group and re-admits every running sequence as a recompute. */
  private async recover(): Promise<void> {
    const fault = this.pendingFault as WorkerGroupError;
    this.pendingFault = undefined;
    this.sent = undefined; // its sequences recompute on the new group
    this.isRecovering = true;
    const started = performance.now();
    try {
      const info = await this.recovery.recover(fault);
      const resumed = this.scheduler.resetAfterWorkerLoss(info.numKvBlocks);
      const seconds = (performance.now() - started) / 1000;
      this.metrics.recordRecovery(seconds, resumed.length);
      this.logger.warn(`recovered in ${seconds.toFixed(2)} s: ${resumed.length} running request(s) resume by recompute, ${this.scheduler.getStats().numWaiting - resumed.length} more queued`);
      this.setWorkersUp(undefined);
      this.lastProgressAt = Date.now();
    } catch (err) {
      this.breakDown(err instanceof Error ? err.message : String(err));
    } finally {
      this.isRecovering = false;
      this.metrics.recordSchedulerStats(this.scheduler.getStats());
    }
  }

  /**
   * Every rank rejected the step for one sequence before changing any state: end that request
   * alone with a 500 naming the problem; the others recompute (Scheduler.resetAfterRejectedStep)
   * on the same workers: no restart, nothing taken from the restart budget.
   */
  private async blameSequence(fault: WorkerGroupError, rejected: SchedulerOutput<SamplingParams>, planned?: SchedulerOutput<SamplingParams>): Promise<void> {
    const requestId = fault.seqId as number;
    this.logger.error(`request ${requestId}: the workers rejected its step, ending it alone: ${fault.message}`);
    this.scheduler.abortRequest(requestId);
    const { resumed, forgetIds } = this.scheduler.resetAfterRejectedStep(rejected, planned);
    const error = new OpenAiError(500, `Internal error: the model workers rejected this request: ${fault.message}`, null, 'internal_error');
    const seq = this.live.delete(requestId);
    if (seq !== undefined) finishQuietly(seq, { reason: 'error', error }, (again) => this.logListenerError(requestId, again));
    this.logger.warn(`${resumed.filter((id) => id !== requestId).length} other running request(s) resume by recompute`);
    this.metrics.recordSchedulerStats(this.scheduler.getStats());
    // the rejected step ran nowhere: its id is free for this forget-only step
    if (forgetIds.length > 0) await this.runtime.executor.step({ stepId: rejected.stepId, newSequences: [], scheduled: [], finished: forgetIds });
  }

  /** The restart budget is spent: every live and future request gets a 503 naming why. */
  private breakDown(reason: string): void {
    this.logger.error(`giving up: ${reason}`);
    this.broken = new OpenAiError(503, `The model workers failed and cannot be restarted: ${reason}`, null, 'worker_failure');
    for (const id of this.live.ids()) this.scheduler.abortRequest(id);
    this.live.finishAll({ reason: 'error', error: this.broken });
    for (let rank = 0; rank < this.runtime.executor.size; rank++) this.metrics.setWorkerUp(rank, false);
  }

  /** A listener threw: end that request alone with a 500, logged with its id. */
  private onListenerFault(requestId: number, err: unknown, request?: SequenceRequest): void {
    this.logListenerError(requestId, err);
    this.scheduler.abortRequest(requestId);
    const error = new OpenAiError(500, `Internal error while producing this response: ${err instanceof Error ? err.message : String(err)}`, null, 'internal_error');
    const seq = request ?? this.live.delete(requestId);
    if (seq !== undefined) finishQuietly(seq, { reason: 'error', error }, (again) => this.logListenerError(requestId, again));
    this.kick();
  }

  private logListenerError(requestId: number, err: unknown): void {
    this.logger.error(`request ${requestId}: its response handler threw, ending it alone: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }

  private setWorkersUp(downRank: number | undefined): void {
    for (let rank = 0; rank < this.runtime.executor.size; rank++) this.metrics.setWorkerUp(rank, rank !== downRank);
  }
}
