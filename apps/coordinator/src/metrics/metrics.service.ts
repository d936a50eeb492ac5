// MetricsService: the Prometheus registry of one coordinator (prom-client), with the names from
// libs/metrics/src/metric-names.ts. The engine loop reports steps and scheduler stats, the API
// layer reports requests, latencies and tokens. Each value is also exported under vLLM's name
// (vllm-metrics.ts). GET /metrics renders it (metrics.controller.ts). Tests: metrics.service.spec.ts.
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { METRIC, METRIC_LABELS } from '../../../../libs/metrics/src/metric-names';
import type { SchedulerStats } from '../../../../libs/scheduler/src/scheduler-output';
import { VllmMetrics, type FinishedReason } from './vllm-metrics';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const STEP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: METRIC.requestsTotal, help: 'HTTP API requests by endpoint and status code', labelNames: METRIC_LABELS.requestsTotal, registers: [this.registry] });
  private readonly requestDuration = new Histogram({ name: METRIC.requestDurationSeconds, help: 'End-to-end request latency', labelNames: METRIC_LABELS.requestDurationSeconds, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  private readonly ttft = new Histogram({ name: METRIC.timeToFirstTokenSeconds, help: 'Time from arrival to the first generated token', buckets: LATENCY_BUCKETS, registers: [this.registry] });
  private readonly itl = new Histogram({ name: METRIC.interTokenLatencySeconds, help: 'Time between consecutive generated tokens of a sequence', buckets: STEP_BUCKETS, registers: [this.registry] });
  private readonly promptTokens = new Counter({ name: METRIC.promptTokensTotal, help: 'Prompt tokens of admitted requests', registers: [this.registry] });
  private readonly promptTokensComputed = new Counter({ name: METRIC.promptTokensComputedTotal, help: 'Prompt tokens the engine computed (prefix-cache hits and shared prefills of n > 1 skip theirs)', registers: [this.registry] });
  private readonly generationTokens = new Counter({ name: METRIC.generationTokensTotal, help: 'Generated tokens (sampled and forced)', registers: [this.registry] });
  private readonly running = new Gauge({ name: METRIC.numRequestsRunning, help: 'Sequences running in the scheduler', registers: [this.registry] });
  private readonly waiting = new Gauge({ name: METRIC.numRequestsWaiting, help: 'Sequences waiting in the scheduler', registers: [this.registry] });
  private readonly kvUsage = new Gauge({ name: METRIC.kvCacheUsageRatio, help: 'Fraction of KV cache blocks in use', registers: [this.registry] });
  private readonly prefixHit = new Gauge({ name: METRIC.prefixCacheHitRatio, help: 'Prefix cache hits / queries, in tokens', registers: [this.registry] });
  private readonly preemptions = new Counter({ name: METRIC.numPreemptionsTotal, help: 'Recompute preemptions', registers: [this.registry] });
  private readonly stepDuration = new Histogram({ name: METRIC.stepDurationSeconds, help: 'Duration of one engine step (all ranks)', buckets: STEP_BUCKETS, registers: [this.registry] });
  private readonly stepWait = new Histogram({ name: METRIC.stepWaitSeconds, help: 'Time the workers waited for a step after finishing the one before it, measured by the workers (steps sent while the engine had work)', buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25], registers: [this.registry] });
  private readonly stepWaitCauseSeconds = new Counter({ name: METRIC.stepWaitCauseSecondsTotal, help: 'The workers\' wait before steps sent while the engine had work, by why the step was sent when it was (sent_ahead, synchronous, last_tokens, needs_reply, late_arrival, other)', labelNames: METRIC_LABELS.stepWaitCauseSecondsTotal, registers: [this.registry] });
  private readonly stepWaitCauseSteps = new Counter({ name: METRIC.stepWaitCauseStepsTotal, help: 'Steps sent while the engine had work, by why they were sent when they were (see tpserve_step_wait_cause_seconds_total)', labelNames: METRIC_LABELS.stepWaitCauseStepsTotal, registers: [this.registry] });
  private readonly stepTokens = new Histogram({ name: METRIC.stepBatchedTokens, help: 'Tokens computed per engine step', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192], registers: [this.registry] });
  private readonly workerUp = new Gauge({ name: METRIC.workerUp, help: '1 while the worker rank is healthy', labelNames: METRIC_LABELS.workerUp, registers: [this.registry] });
  private readonly restarts = new Counter({ name: METRIC.workerRestartsTotal, help: 'Worker-group restarts after a fault, by cause (exit, hang, step_error, load)', labelNames: METRIC_LABELS.workerRestartsTotal, registers: [this.registry] });
  private readonly recoveryDuration = new Histogram({ name: METRIC.recoveryDurationSeconds, help: 'Time from a worker fault to a serving group again', buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600], registers: [this.registry] });
  private readonly resumed = new Counter({ name: METRIC.requestsResumedTotal, help: 'Running sequences re-admitted as recompute after a worker restart', registers: [this.registry] });
  private lastPreemptions = 0;
  private lastPromptTokensComputed = 0;
  private lastPrefixQueries = 0;
  private lastPrefixHits = 0;
  private readonly vllm: VllmMetrics;

  /** `modelName`: the served model name, the `model_name` label of the vllm:* series. */
  constructor(modelName = 'tpserve') {
    collectDefaultMetrics({ register: this.registry, prefix: 'tpserve_' });
    this.vllm = new VllmMetrics(this.registry, modelName, { latency: LATENCY_BUCKETS, step: STEP_BUCKETS });
  }

  /** A generation request ended; `seconds` from its arrival. */
  recordRequest(endpoint: string, status: number, seconds: number): void {
    this.requests.inc({ endpoint, status: String(status) });
    this.requestDuration.observe({ endpoint }, seconds);
    this.vllm.e2e.observe(this.vllm.modelLabels, seconds);
  }

  /** A sequence (one choice) finished. */
  recordFinished(reason: FinishedReason): void {
    this.vllm.recordFinished(reason);
  }

  recordFirstToken(seconds: number): void {
    this.ttft.observe(seconds);
    this.vllm.ttft.observe(this.vllm.modelLabels, seconds);
  }

  recordInterToken(seconds: number): void {
    this.itl.observe(seconds);
    this.vllm.itl.observe(this.vllm.modelLabels, seconds);
  }

  recordPromptTokens(n: number): void {
    this.promptTokens.inc(n);
    this.vllm.promptTokens.inc(this.vllm.modelLabels, n);
  }

  recordGenerationTokens(n: number): void {
    if (n <= 0) return;
    this.generationTokens.inc(n);
    this.vllm.generationTokens.inc(this.vllm.modelLabels, n);
  }

  /**
   * `waitSeconds`: the workers' idle time before the step (undefined when the engine had been
   * idle); `cause`: why the step was sent when it was (StepSendCause).
   */
  recordStep(seconds: number, numBatchedTokens: number, waitSeconds?: number, cause?: string): void {
    this.stepDuration.observe(seconds);
    this.stepTokens.observe(numBatchedTokens);
    if (waitSeconds === undefined) return;
    this.stepWait.observe(waitSeconds);
    if (cause === undefined) return;
    this.stepWaitCauseSeconds.inc({ cause }, waitSeconds);
    this.stepWaitCauseSteps.inc({ cause });
  }

  recordSchedulerStats(stats: SchedulerStats): void {
    const labels = this.vllm.modelLabels;
    this.running.set(stats.numRunning);
    this.waiting.set(stats.numWaiting);
    this.kvUsage.set(stats.kvUsage);
    this.prefixHit.set(stats.prefixCacheHitRate);
    this.vllm.running.set(labels, stats.numRunning);
    this.vllm.waiting.set(labels, stats.numWaiting);
    this.vllm.kvUsage.set(labels, stats.kvUsage);
    if (stats.numPreemptions > this.lastPreemptions) {
      this.preemptions.inc(stats.numPreemptions - this.lastPreemptions);
      this.vllm.preemptions.inc(labels, stats.numPreemptions - this.lastPreemptions);
    }
    this.lastPreemptions = stats.numPreemptions;
    if (stats.numPromptTokensComputed > this.lastPromptTokensComputed) this.promptTokensComputed.inc(stats.numPromptTokensComputed - this.lastPromptTokensComputed);
    this.lastPromptTokensComputed = stats.numPromptTokensComputed;
    if (stats.numPrefixQueryTokens > this.lastPrefixQueries) this.vllm.prefixQueries.inc(labels, stats.numPrefixQueryTokens - this.lastPrefixQueries);
    if (stats.numPrefixHitTokens > this.lastPrefixHits) this.vllm.prefixHits.inc(labels, stats.numPrefixHitTokens - this.lastPrefixHits);
    this.lastPrefixQueries = stats.numPrefixQueryTokens;
    this.lastPrefixHits = stats.numPrefixHitTokens;
  }

  setWorkerUp(rank: number, isUp: boolean): void {
    this.workerUp.set({ rank: String(rank) }, isUp ? 1 : 0);
  }

  recordRestart(cause: string): void {
    this.restarts.inc({ cause });
  }

  recordRecovery(seconds: number, numResumed: number): void {
    this.recoveryDuration.observe(seconds);
    if (numResumed > 0) this.resumed.inc(numResumed);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
