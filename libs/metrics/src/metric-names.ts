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
  promptTokensComputedTotal: 'tpserve_prompt_tokens_computed_total',
  numRequestsRunning: 'tpserve_num_requests_running',
  numRequestsWaiting: 'tpserve_num_requests_waiting',
  kvCacheUsageRatio: 'tpserve_kv_cache_usage_ratio',
  prefixCacheHitRatio: 'tpserve_prefix_cache_hit_ratio',
  numPreemptionsTotal: 'tpserve_num_preemptions_total',
  stepDurationSeconds: 'tpserve_step_duration_seconds',
  stepBatchedTokens: 'tpserve_step_batched_tokens',
  stepWaitSeconds: 'tpserve_step_wait_seconds',
  stepWaitCauseSecondsTotal: 'tpserve_step_wait_cause_seconds_total',
  stepWaitCauseStepsTotal: 'tpserve_step_wait_cause_steps_total',
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
  stepWaitCauseSecondsTotal: ['cause'],
  stepWaitCauseStepsTotal: ['cause'],
} as const;

/**
 * vLLM's names for the same values (docs.vllm.ai, "Production Metrics", V1), each with the
 * `model_name` label, so the Gateway API Inference Extension's endpoint picker, KEDA /
 * production-stack autoscaling and vLLM's Grafana dashboards read tpserve as they read vLLM.
 * Counters are registered with their exposed `_total` name.
 */
export const VLLM_METRIC = {
  numRequestsRunning: 'vllm:num_requests_running',
  numRequestsWaiting: 'vllm:num_requests_waiting',
  /** Fraction of KV blocks in use, 0..1 (despite the name). */
  kvCacheUsagePerc: 'vllm:kv_cache_usage_perc',
  promptTokensTotal: 'vllm:prompt_tokens_total',
  generationTokensTotal: 'vllm:generation_tokens_total',
  timeToFirstTokenSeconds: 'vllm:time_to_first_token_seconds',
  interTokenLatencySeconds: 'vllm:inter_token_latency_seconds',
  e2eRequestLatencySeconds: 'vllm:e2e_request_latency_seconds',
  requestSuccessTotal: 'vllm:request_success_total',
  numPreemptionsTotal: 'vllm:num_preemptions_total',
  /** In tokens, as vLLM counts them. */
  prefixCacheQueriesTotal: 'vllm:prefix_cache_queries_total',
  prefixCacheHitsTotal: 'vllm:prefix_cache_hits_total',
} as const;

export const VLLM_LABELS = {
  model: ['model_name'],
  requestSuccessTotal: ['model_name', 'finished_reason'],
} as const;
