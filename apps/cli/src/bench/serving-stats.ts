// Statistics of a `tpserve bench` run: per-request measurements → the summary vLLM's
// `bench serve` prints (throughput, TTFT / TPOT / ITL / E2E mean, median, p90, p99).
// Pure functions; tests: test/bench/serving-stats.test.ts.

/** What one streamed request measured (times in ms from performance.now()). */
export interface RequestResult {
  isSuccess: boolean;
  error?: string;
  /** usage.prompt_tokens (0 when the server sent no usage). */
  inputTokens: number;
  /** usage.completion_tokens, or the number of content chunks when the server sent no usage. */
  outputTokens: number;
  /** Request sent → first chunk that carries generated text. */
  ttftMs: number;
  /** Gaps between consecutive chunks that carry generated text. */
  itlMs: number[];
  /** Request sent → stream ended. */
  e2eMs: number;
  /** Chunks that carried generated text (fewer than outputTokens when tokens decode to nothing). */
  numChunks: number;
}

export interface Distribution {
  mean: number;
  median: number;
  p90: number;
  p99: number;
  std: number;
}

export interface ServingSummary {
  durationS: number;
  numCompleted: number;
  numFailed: number;
  totalInputTokens: number;
  totalOutputTokens: number;
  requestsPerS: number;
  inputTokensPerS: number;
  outputTokensPerS: number;
  totalTokensPerS: number;
  ttftMs: Distribution;
  /** Time per output token after the first: (e2e - ttft) / (outputTokens - 1), per request. */
  tpotMs: Distribution;
  itlMs: Distribution;
  e2eMs: Distribution;
}

/** The p-th percentile with linear interpolation between closest ranks (numpy's default). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  if (p < 0 || p > 100) throw new Error(`percentile ${p} is outside [0, 100]`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** Mean, median, p90, p99 and population standard deviation; all 0 for no values. */
export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { mean: 0, median: 0, p90: 0, p99: 0, std: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { mean, median: percentile(values, 50), p90: percentile(values, 90), p99: percentile(values, 99), std: Math.sqrt(variance) };
}

/** The run's summary; failed requests count only in numFailed. */
export function summarize(results: readonly RequestResult[], durationS: number): ServingSummary {
  const ok = results.filter((r) => r.isSuccess);
  const totalInputTokens = ok.reduce((a, r) => a + r.inputTokens, 0);
  const totalOutputTokens = ok.reduce((a, r) => a + r.outputTokens, 0);
  const perS = (x: number): number => (durationS > 0 ? x / durationS : 0);
  return {
    durationS,
    numCompleted: ok.length,
    numFailed: results.length - ok.length,
    totalInputTokens,
    totalOutputTokens,
    requestsPerS: perS(ok.length),
    inputTokensPerS: perS(totalInputTokens),
    outputTokensPerS: perS(totalOutputTokens),
    totalTokensPerS: perS(totalInputTokens + totalOutputTokens),
    ttftMs: distribution(ok.map((r) => r.ttftMs)),
    // vLLM: requests of one output token have no TPOT
    tpotMs: distribution(ok.filter((r) => r.outputTokens > 1).map((r) => (r.e2eMs - r.ttftMs) / (r.outputTokens - 1))),
    itlMs: distribution(ok.flatMap((r) => r.itlMs)),
    e2eMs: distribution(ok.map((r) => r.e2eMs)),
  };
}
