// Every Prometheus metric name tpserve exports, in one place (dashboards, alerts and tests read
// these; the coordinator's metrics/ feature registers them). Units in the name, as Prometheus
// recommends; counters end in _total.

export const METRIC = {
  requestsTotal: 'tpserve_requests_total',
  requestDurationSeconds: 'tpserve_request_duration_seconds',
  timeToFirstTokenSeconds: 'tpserve_time_to_first_token_seconds',
  interTokenLatencySeconds: 'tpserve_inter_token_latency_seconds',
  promptTokensTotal: 'tpserve_prompt_tokens_total',
  generationTokensTotal: 'tpserve_generation_tokens_total',
  numRequestsRunning: 'tpserve_num_requests_running',
  numRequestsWaiting: 'tpserve_num_requests_waiting',
  kvCacheUsageRatio: 'tpserve_kv_cache_usage_ratio',
  prefixCacheHitRatio: 'tpserve_prefix_cache_hit_ratio',
  numPreemptionsTotal: 'tpserve_num_preemptions_total',
  stepDurationSeconds: 'tpserve_step_duration_seconds',
  stepBatchedTokens: 'tpserve_step_batched_tokens',
  workerUp: 'tpserve_worker_up',
  workerRestartsTotal: 'tpserve_worker_restarts_total',
  recoveryDurationSeconds: 'tpserve_recovery_duration_seconds',
  requestsResumedTotal: 'tpserve_requests_resumed_total',
} as const;

/** Label names, per metric. */
export const METRIC_LABELS = {
  requestsTotal: ['endpoint', 'status'],
  requestDurationSeconds: ['endpoint'],
  workerUp: ['rank'],
  workerRestartsTotal: ['cause'],
} as const;
