// EngineLoopService: owns the Scheduler and the StepExecutor (the worker group) and runs the one
// step loop of the replica: schedule() → StepInput → step() on every rank → updateFromOutput →
// each sequence's listener gets its new token (and forced tokens, see TokenForcer). Never two
// steps at once; the loop runs while there is work and sleeps otherwise. A failed worker group
// fails every live sequence with 503 and marks the engine unhealthy for /ready.
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { SamplingParams } from '../../../../libs/native/src/types';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import { appendForcedTokens, remainingOutputRoom } from '../../../../libs/scheduler/src/forced-tokens';
import { Scheduler } from '../../../../libs/scheduler/src/scheduler';
import type { FinishedRequest } from '../../../../libs/scheduler/src/scheduler-output';
import { MetricsService } from '../metrics/metrics.service';
import type { SequenceRequest } from './engine-request';
import { ModelRuntime } from './model-runtime';
import { schedulerErrorToOpenAi } from './scheduler-errors';
import { buildStepInput } from './step-input-builder';

interface LiveSequence {
  request: SequenceRequest;
}

const IDLE_POLL_MS = 2;

@Injectable()
export class EngineLoopService implements OnModuleDestroy {
  private readonly logger = new Logger('EngineLoop');
  readonly scheduler: Scheduler<SamplingParams>;
  private readonly live = new Map<number, LiveSequence>();
  private nextRequestId = 1;
  private loop: Promise<void> | undefined;
  private failure: OpenAiError | undefined;
  private isClosing = false;
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
    });
    for (let rank = 0; rank < runtime.executor.size; rank++) metrics.setWorkerUp(rank, true);
    runtime.executor.onFailure((err) => this.fail(err));
  }

  /** Whether the engine can take requests (the worker group has not failed). */
  get isHealthy(): boolean {
    return this.failure === undefined && !this.isClosing;
  }

  get isIdle(): boolean {
    return this.scheduler.numUnfinishedRequests === 0;
  }

  get numLiveSequences(): number {
    return this.live.size;
  }

  /**
   * Queues a sequence; returns its id. Throws OpenAiError: 503 when the engine failed, 429 when
   * the waiting queue is full, 400 when the prompt and max tokens do not fit the context.
   */
  submit(request: SequenceRequest): number {
    if (this.failure) throw this.failure;
    if (this.isClosing) throw new OpenAiError(503, 'the server is shutting down', null, 'shutting_down');
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
        arrivalTimeMs: Date.now(),
        deadlineMs: request.deadlineMs,
      });
    } catch (err) {
      throw schedulerErrorToOpenAi(err);
    }
    this.live.set(requestId, { request });
    const forced = request.forcer?.start() ?? [];
    if (forced.length > 0) this.force(requestId, forced);
    this.kick();
    return requestId;
  }

  /** Stops a sequence (client gone, stop string matched); its blocks are freed by the next step. No more events. */
  abort(requestId: number): void {
    if (!this.live.delete(requestId)) return;
    this.scheduler.abortRequest(requestId);
    this.kick();
  }

  /** Shutdown: live sequences end with a 503 (their clients get an error, not a hang). */
  async onModuleDestroy(): Promise<void> {
    this.isClosing = true;
    const error = new OpenAiError(503, 'The server is shutting down.', null, 'shutting_down');
    for (const [id, seq] of [...this.live]) {
      this.abort(id);
      seq.request.listener.onFinish({ reason: 'error', error });
    }
    await this.loop;
  }

  private kick(): void {
    if (this.loop !== undefined || this.failure) return;
    this.loop = this.run().finally(() => {
      this.loop = undefined;
      if (!this.failure && this.scheduler.numUnfinishedRequests > 0) this.kick();
    });
  }

  private async run(): Promise<void> {
    try {
      while (!this.failure) {
        const out = this.scheduler.schedule(Date.now());
        this.reportFinished(out.finishedRequests);
        if (out.scheduled.length === 0) {
          if (out.finishedIds.length > 0) {
            await this.runtime.executor.step({ stepId: out.stepId, newSequences: [], scheduled: [], finished: out.finishedIds });
          }
          this.metrics.recordSchedulerStats(this.scheduler.getStats());
          if (this.scheduler.numUnfinishedRequests === 0) return;
          await new Promise((r) => setTimeout(r, IDLE_POLL_MS)); // nothing schedulable right now
          continue;
        }
        const started = performance.now();
        const result = await this.runtime.executor.step(buildStepInput(out, (id) => this.live.get(id)?.request));
        this.lastProgressAt = Date.now();
        this.metrics.recordStep((performance.now() - started) / 1000, out.numBatchedTokens);
        const samples = new Map(result.samples.map((s) => [s.seqId, s]));
        const updates = this.scheduler.updateFromOutput(out, result.samples.map((s) => ({ requestId: s.seqId, token: s.token })));
        for (const update of updates) {
          const seq = this.live.get(update.requestId);
          if (seq === undefined) continue;
          const sample = samples.get(update.requestId);
          seq.request.constraint?.onToken(update.token);
          seq.request.listener.onToken({ token: update.token, logprob: sample?.logprob ?? 0, topLogprobs: sample?.topLogprobs ?? [], isForced: false });
          if (update.finished !== undefined) {
            this.reportFinished([update.finished]);
          } else if (this.live.has(update.requestId)) {
            const forced = seq.request.forcer?.onToken(update.token) ?? [];
            if (forced.length > 0) this.force(update.requestId, forced);
          }
        }
        this.metrics.recordSchedulerStats(this.scheduler.getStats());
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Appends forced tokens (bounded by max tokens; filling it ends the sequence with 'length'). */
  private force(requestId: number, tokens: number[]): void {
    const seq = this.live.get(requestId);
    if (seq === undefined) return;
    const room = remainingOutputRoom(this.scheduler, requestId);
    const n = appendForcedTokens(this.scheduler, requestId, tokens);
    for (const token of tokens.slice(0, n)) {
      seq.request.constraint?.onToken(token);
      seq.request.listener.onToken({ token, logprob: 0, topLogprobs: [], isForced: true });
    }
    if (n >= room) {
      this.live.delete(requestId);
      this.scheduler.abortRequest(requestId);
      seq.request.listener.onFinish({ reason: 'length' });
    }
  }

  private reportFinished(finished: readonly FinishedRequest[]): void {
    for (const f of finished) {
      const seq = this.live.get(f.requestId);
      if (seq === undefined) continue;
      this.live.delete(f.requestId);
      if (f.reason === 'error') {
        seq.request.listener.onFinish({ reason: 'error', detail: f.detail, error: OpenAiError.invalid(f.detail ?? 'the request cannot be served', null, 'request_too_large') });
      } else {
        seq.request.listener.onFinish({ reason: f.reason, detail: f.detail });
      }
    }
  }

  private fail(err: Error & { rank?: number }): void {
    if (this.failure) return;
    const where = err.rank === undefined ? 'the worker group' : `worker rank ${err.rank}`;
    this.logger.error(`${where} failed: ${err.message}`);
    for (let rank = 0; rank < this.runtime.executor.size; rank++) this.metrics.setWorkerUp(rank, err.rank === undefined ? false : rank !== err.rank);
    this.failure = new OpenAiError(503, `The model workers failed (${where}: ${err.message}); the server cannot generate until it is restarted.`, null, 'worker_failure');
    const sequences = [...this.live.values()];
    this.live.clear();
    for (const seq of sequences) seq.request.listener.onFinish({ reason: 'error', error: this.failure });
  }
}
