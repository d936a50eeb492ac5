// EngineLoopService: owns the Scheduler and the StepExecutor (the supervised worker group) and
// runs the one step loop of the replica: schedule() → StepInput → step() on every rank →
// updateFromOutput (StepReport) → each sequence's listener gets its new token (and forced
// tokens, see TokenForcer). Async scheduling (vLLM's): step N+1 is scheduled and sent while N
// runs (SentStepPipeline), its decodes carrying placeholders the workers fill with the tokens
// they sampled, so a worker starts N+1 the moment it finishes N; with --steps-ahead 2, N+2 is
// on the workers too. N's reply is applied, then the next step is sent (StepPlanner), and only
// then do listeners run, while the workers compute. The loop runs while there is work.
// Faults: a worker fault (exit, hang, failed step) is recovered, not failed: the group is
// replaced (WorkerRecovery) and every running sequence recomputes its prompt + tokens so far, so
// streams pause and continue; every sent step is void. A step the workers rejected for one
// sequence ends that request alone (500) and the others recompute on the same workers
// (SequenceBlame). Past the restart budget the engine is broken for good (/health 503). A
// throwing listener ends its own request only (LiveSequences). drain() serves SIGTERM.
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { SamplingParams } from '../../../../libs/native/src/types';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import { Scheduler } from '../../../../libs/scheduler/src/scheduler';
import { WorkerGroupError } from '../../../../libs/worker-group/src/worker-group';
import { MetricsService } from '../metrics/metrics.service';
import type { SequenceRequest } from './engine-request';
import { ForcedTokens } from './forced-token-delivery';
import { ListenerFaults } from './listener-faults';
import { LiveSequences } from './live-sequences';
import { ModelRuntime } from './model-runtime';
import { schedulerErrorToOpenAi } from './scheduler-errors';
import { type SentStep, SentStepPipeline } from './sent-step-pipeline';
import { SequenceBlame } from './sequence-blame';
import { StepPlanner } from './step-planner';
import { StepReport } from './step-report';
import { StepTrace } from './step-trace';
import { WorkerRecovery } from './worker-recovery';

const IDLE_POLL_MS = 2;
const DRAIN_POLL_MS = 50;

@Injectable()
export class EngineLoopService implements OnModuleDestroy {
  private readonly logger = new Logger('EngineLoop');
  readonly scheduler: Scheduler<SamplingParams>;
  private readonly live: LiveSequences;
  private readonly recovery: WorkerRecovery;
  private readonly forced: ForcedTokens;
  private readonly report: StepReport;
  private readonly pipeline: SentStepPipeline;
  private readonly sequenceBlame: SequenceBlame;
  private readonly trace: StepTrace | undefined;
  private readonly planner: StepPlanner;
  /** The loop awaits the oldest step's reply (sendAhead may send one behind it). */
  private awaitingReply = false;
  private nextRequestId = 1;
  private loop: Promise<void> | undefined;
  /** Set once the restart budget is spent: the engine never generates again. */
  private broken: OpenAiError | undefined;
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
      longPrefillTokenThreshold: config.longPrefillTokenThreshold > 0 ? config.longPrefillTokenThreshold : undefined,
      maxPrefillStepRatio: config.maxPrefillStepRatio > 0 ? config.maxPrefillStepRatio : undefined,
      blockSize: info.kvBlockSize,
      numBlocks: info.numKvBlocks,
      maxModelLen: runtime.maxModelLen,
      enablePrefixCaching: true,
      eosTokenIds: runtime.eosTokenIds,
      asyncScheduling: config.asyncScheduling,
      maxStepsAhead: config.stepsAhead,
      // structured outputs: a sequence whose next mask is still being computed sits out the step
      isSampleReady: (id) => this.live.get(id)?.constraint?.isReady() ?? true,
    });
    const faults = new ListenerFaults(this.scheduler, () => this.live, this.logger, () => this.kick());
    const onFault = (id: number, err: unknown, request?: SequenceRequest): void => faults.end(id, err, request);
    const onFinishError = (id: number, err: unknown): void => faults.log(id, err);
    this.live = new LiveSequences(onFault, onFinishError);
    this.forced = new ForcedTokens(this.scheduler, this.live, onFault, onFinishError);
    this.report = new StepReport(this.scheduler, this.live, this.forced, onFault);
    this.pipeline = new SentStepPipeline(() => runtime.executor);
    this.planner = new StepPlanner(this.scheduler, this.pipeline, this.live, this.report, () => this.pendingFault === undefined);
    this.sequenceBlame = new SequenceBlame(this.scheduler, this.live, this.pipeline, () => runtime.executor, metrics, this.logger, onFinishError);
    this.recovery = new WorkerRecovery(runtime.executor, config.restartBudget, metrics, this.logger);
    this.trace = config.stepTrace === undefined ? undefined : new StepTrace(config.stepTrace);
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
        // forced tokens and masks are decided from each token: never planned before it is known
        isSpeculationAllowed: request.forcer === undefined && request.constraint === undefined,
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
    queueMicrotask(() => this.sendAhead());
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
    this.trace?.close();
  }

  private kick(): void {
    if (this.loop !== undefined || this.broken || this.isClosing) return;
    this.loop = this.run().finally(() => {
      this.loop = undefined;
      if (this.pendingFault !== undefined || this.scheduler.numUnfinishedRequests > 0) this.kick();
    });
  }

  private async run(): Promise<void> {
    this.pipeline.markIdle();
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
   * One scheduler iteration; false when there is nothing left to do. Fills the pipeline (one
   * step synchronously, up to 1 + --steps-ahead with async scheduling: sent before the first
   * reported), applies the oldest reply, settles the step behind it, refills the pipeline, and
   * only then runs the listeners, while the workers compute.
   */
  private async runStep(): Promise<boolean> {
    this.planner.fill();
    if (this.pipeline.length === 0) {
      this.metrics.recordSchedulerStats(this.scheduler.getStats());
      if (this.scheduler.numUnfinishedRequests === 0) return false;
      this.pipeline.markIdle();
      await new Promise((r) => setTimeout(r, IDLE_POLL_MS)); // nothing schedulable right now
      return true;
    }
    const deliveries = await this.applyOldest();
    this.planner.fill(); // the next step goes out before the listeners run
    for (const deliver of deliveries) deliver();
    this.metrics.recordSchedulerStats(this.scheduler.getStats());
    return true;
  }

  /** An arrival while the loop awaits a reply may go out now (StepPlanner.sendAhead); runs on a microtask after submit(). */
  private sendAhead(): void {
    if (!this.awaitingReply || this.isRecovering || this.broken !== undefined || this.isClosing) return;
    this.planner.sendAhead();
  }

  /**
   * Waits for the oldest sent step and applies it, forced tokens included, then settles the step
   * sent behind it (placeholders). Returns the listener deliveries, in order; none when every
   * rank rejected the step for one sequence (SequenceBlame handled it).
   */
  private async applyOldest(): Promise<Array<() => void>> {
    const oldest = this.pipeline.oldest as SentStep;
    let taken;
    this.awaitingReply = true;
    try {
      taken = await this.pipeline.takeOldest();
    } catch (err) {
      this.awaitingReply = false;
      if (!(err instanceof WorkerGroupError) || err.kind !== 'sequence') throw err;
      await this.sequenceBlame.blame(err, oldest);
      return [];
    }
    this.awaitingReply = false;
    const { step, result, timing } = taken;
    this.lastProgressAt = Date.now();
    this.metrics.recordStep(timing.seconds, step.out.numBatchedTokens, timing.waitSeconds, step.cause);
    this.trace?.record(step, timing);
    this.scheduler.recordStepTime(step.out, (result.timings.forwardUs + result.timings.samplingUs) / 1e6); // the prefill budget's cost model
    const deliveries = this.report.apply(step.out, result);
    const next = this.pipeline.oldest;
    if (next !== undefined) this.scheduler.resolvePlaceholders(next.out);
    return deliveries;
  }

  /** Replaces the worker group and re-admits every running sequence as a recompute. */
  private async recover(): Promise<void> {
    const fault = this.pendingFault as WorkerGroupError;
    this.pendingFault = undefined;
    this.pipeline.clear(); // their sequences recompute on the new group
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

  /** The restart budget is spent: every live and future request gets a 503 naming why. */
  private breakDown(reason: string): void {
    this.logger.error(`giving up: ${reason}`);
    this.broken = new OpenAiError(503, `The model workers failed and cannot be restarted: ${reason}`, null, 'worker_failure');
    for (const id of this.live.ids()) this.scheduler.abortRequest(id);
    this.live.finishAll({ reason: 'error', error: this.broken });
    for (let rank = 0; rank < this.runtime.executor.size; rank++) this.metrics.setWorkerUp(rank, false);
  }

  private setWorkersUp(downRank: number | undefined): void {
    for (let rank = 0; rank < this.runtime.executor.size; rank++) this.metrics.setWorkerUp(rank, rank !== downRank);
  }
}
