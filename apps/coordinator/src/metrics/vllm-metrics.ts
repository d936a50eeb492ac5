// The vLLM-named twins of tpserve's metrics (VLLM_METRIC), labelled with the served model's
// name, in the same registry. MetricsService feeds both from the same observations, so the two
// names always carry the same values. Tests: metrics.service.spec.ts.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { VLLM_LABELS, VLLM_METRIC } from '../../../../libs/metrics/src/metric-names';

export type FinishedReason = 'stop' | 'length' | 'abort' | 'error';

export class VllmMetrics {
  readonly running: Gauge;
  readonly waiting: Gauge;
  readonly kvUsage: Gauge;
  readonly promptTokens: Counter;
  readonly generationTokens: Counter;
  readonly ttft: Histogram;
  readonly itl: Histogram;
  readonly e2e: Histogram;
  readonly preemptions: Counter;
  readonly prefixQueries: Counter;
  readonly prefixHits: Counter;
  private readonly success: Counter;
  private readonly labels: { model_name: string };

  constructor(registry: Registry, modelName: string, buckets: { latency: number[]; step: number[] }) {
    const registers = [registry];
    const labelNames = VLLM_LABELS.model;
    this.labels = { model_name: modelName };
    this.running = new Gauge({ name: VLLM_METRIC.numRequestsRunning, help: 'Number of requests in model execution batches', labelNames, registers });
    this.waiting = new Gauge({ name: VLLM_METRIC.numRequestsWaiting, help: 'Number of requests waiting to be processed', labelNames, registers });
    this.kvUsage = new Gauge({ name: VLLM_METRIC.kvCacheUsagePerc, help: 'KV-cache usage; 1 means 100 percent', labelNames, registers });
    this.promptTokens = new Counter({ name: VLLM_METRIC.promptTokensTotal, help: 'Number of prefill tokens processed', labelNames, registers });
    this.generationTokens = new Counter({ name: VLLM_METRIC.generationTokensTotal, help: 'Number of generation tokens processed', labelNames, registers });
    this.ttft = new Histogram({ name: VLLM_METRIC.timeToFirstTokenSeconds, help: 'Time to first token, from arrival, in seconds', labelNames, buckets: buckets.latency, registers });
    this.itl = new Histogram({ name: VLLM_METRIC.interTokenLatencySeconds, help: 'Inter-token latency in seconds', labelNames, buckets: buckets.step, registers });
    this.e2e = new Histogram({ name: VLLM_METRIC.e2eRequestLatencySeconds, help: 'End-to-end request latency in seconds', labelNames, buckets: buckets.latency, registers });
    this.success = new Counter({ name: VLLM_METRIC.requestSuccessTotal, help: 'Count of finished requests by finished reason', labelNames: VLLM_LABELS.requestSuccessTotal, registers });
    this.preemptions = new Counter({ name: VLLM_METRIC.numPreemptionsTotal, help: 'Cumulative number of preemptions', labelNames, registers });
    this.prefixQueries = new Counter({ name: VLLM_METRIC.prefixCacheQueriesTotal, help: 'Prefix cache queries, in tokens', labelNames, registers });
    this.prefixHits = new Counter({ name: VLLM_METRIC.prefixCacheHitsTotal, help: 'Prefix cache hits, in tokens', labelNames, registers });
    // every series exists from the start (dashboards and the endpoint picker read them at 0)
    for (const m of [this.running, this.waiting, this.kvUsage]) m.set(this.labels, 0);
    for (const m of [this.promptTokens, this.generationTokens, this.preemptions, this.prefixQueries, this.prefixHits]) m.inc(this.labels, 0);
  }

  get modelLabels(): { model_name: string } {
    return this.labels;
  }

  recordFinished(reason: FinishedReason): void {
    this.success.inc({ ...this.labels, finished_reason: reason });
  }
}
