// The output of `tpserve bench`: the JSON result (written with --result-file and printed on
// stdout) and the human summary table (stderr), laid out like vLLM's `bench serve`.
import type { EngineBaseline } from './serving-engine-baseline';
import type { TokenFit } from './serving-prompts';
import type { ServerStepStats } from './serving-server-metrics';
import type { Distribution, RequestResult, ServingSummary } from './serving-stats';

export const SERVING_OVERHEAD_TARGET = 0.9;

export interface ServingBenchConfig {
  baseUrl: string;
  endpoint: 'chat' | 'completions';
  model: string;
  numPrompts: number;
  /** 'inf' when every request is sent at once. */
  requestRate: number | 'inf';
  maxConcurrency: number | null;
  inputLen: number;
  outputLen: number;
  seed: number;
  /** Each round sends numPrompts new prompts (no prefix-cache hits across rounds). */
  rounds: number;
  temperature: number;
  ignoreEos: boolean;
}

/** Others' load on this (possibly shared) machine while the run went: 1-minute load average, Linux CPU pressure. */
export interface MachineLoad {
  cpus: number;
  cpuModel: string;
  loadAvg1: { before: number; after: number };
  cpuPressureAvg60?: { before?: number; after?: number };
}

/** One API round and the engine measurement right after it. */
export interface OverheadRound {
  apiDurationS: number;
  apiOutputTokensPerS: number;
  engineOutputTokensPerS: number;
  engineDecodeStepMs: number;
  ratio: number;
}

export interface ServingBenchResult {
  date: string;
  config: ServingBenchConfig;
  machine: MachineLoad;
  prompt: TokenFit & { numWords: number };
  summary: ServingSummary;
  /** From the server's /metrics: step time against wall time. */
  server?: ServerStepStats;
  /** The engine measurement after the last round. */
  engineBaseline?: EngineBaseline;
  /** API output tokens/s / engine output tokens/s on the same batch shape (target >= 0.9); the median over rounds. */
  servingOverhead?: number;
  overheadRounds?: OverheadRound[];
  /** The first distinct errors of failed requests. */
  errors: string[];
  requests: Array<Omit<RequestResult, 'isSuccess' | 'error'>>;
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

function roundDistribution(d: Distribution): Distribution {
  return { mean: r2(d.mean), median: r2(d.median), p90: r2(d.p90), p99: r2(d.p99), std: r2(d.std) };
}

/** The summary with 2 decimals (the JSON is for people and dashboards, not for re-analysis). */
export function roundSummary(s: ServingSummary): ServingSummary {
  return {
    ...s,
    durationS: Math.round(s.durationS * 1000) / 1000,
    requestsPerS: r2(s.requestsPerS),
    inputTokensPerS: r2(s.inputTokensPerS),
    outputTokensPerS: r2(s.outputTokensPerS),
    totalTokensPerS: r2(s.totalTokensPerS),
    ttftMs: roundDistribution(s.ttftMs),
    tpotMs: roundDistribution(s.tpotMs),
    itlMs: roundDistribution(s.itlMs),
    e2eMs: roundDistribution(s.e2eMs),
  };
}

export function formatTable(result: ServingBenchResult): string {
  const { summary: s, config: c } = result;
  const lines: string[] = [];
  const title = (t: string): void => void lines.push(t.padStart(25 + Math.ceil(t.length / 2), '=').padEnd(50, '='));
  const row = (label: string, value: number | string): void =>
    void lines.push(`${(label + ':').padEnd(40)}${typeof value === 'number' ? r2(value).toString() : value}`);
  title(' Serving Benchmark Result ');
  row('Endpoint', `${c.endpoint} (${c.model})`);
  row('Request rate / max concurrency', `${c.requestRate} / ${c.maxConcurrency ?? 'none'}`);
  row('Successful requests', s.numCompleted);
  row('Failed requests', s.numFailed);
  row('Benchmark duration (s)', s.durationS);
  row('Total input tokens', s.totalInputTokens);
  row('Total generated tokens', s.totalOutputTokens);
  row('Request throughput (req/s)', s.requestsPerS);
  row('Input token throughput (tok/s)', s.inputTokensPerS);
  row('Output token throughput (tok/s)', s.outputTokensPerS);
  row('Total token throughput (tok/s)', s.totalTokensPerS);
  for (const [name, d] of [['Time to First Token', s.ttftMs], ['Time per Output Token (excl. 1st token)', s.tpotMs], ['Inter-token Latency', s.itlMs], ['End-to-end Latency', s.e2eMs]] as const) {
    title(` ${name} `);
    const short = name === 'Time to First Token' ? 'TTFT' : name.startsWith('Time per') ? 'TPOT' : name.startsWith('Inter') ? 'ITL' : 'E2E';
    row(`Mean ${short} (ms)`, d.mean);
    row(`Median ${short} (ms)`, d.median);
    row(`P90 ${short} (ms)`, d.p90);
    row(`P99 ${short} (ms)`, d.p99);
  }
  if (result.server) {
    const v = result.server;
    title(' Server steps (/metrics) ');
    row('Steps', v.numSteps);
    row('Mean step, executor.step (ms)', v.stepMs);
    row('Time between steps (worker-measured, mean ms)', v.gapMsPerStep);
    if (v.gap !== undefined) {
      row('Time between steps, median / p99 (ms, buckets)', `${v.gap.medianMs} / ${v.gap.p99Ms}`);
      row('Steps waited <= 0.1 ms', `${(v.gap.fractionUnder100us * 100).toFixed(1)} % of ${v.gap.numSteps}`);
      for (const [cause, c] of Object.entries(v.gap.byCause)) row(`  wait ${cause} (steps, total ms)`, `${c.steps}, ${c.totalMs}`);
    }
    row('Outside steps (ms per step)', v.outsideStepsMsPerStep);
    row('Step busy fraction', v.stepBusyFraction);
    row('Output tokens per step', v.outputTokensPerStep);
  }
  if (result.engineBaseline) {
    const e = result.engineBaseline;
    title(' Engine baseline (same batch) ');
    row('Executor', `${e.executor}, tp ${e.tp}, batch ${e.batch}, ${e.inputLen} in / ${e.outputLen} out`);
    row('Engine decode step (ms)', e.decodeStepMs);
    row('Engine output throughput (tok/s)', e.outputTokensPerS);
    const perRound = (result.overheadRounds ?? []).map((r) => `${r2(r.apiOutputTokensPerS)}/${r2(r.engineOutputTokensPerS)}`).join(', ');
    row('API / engine tok/s by round', perRound);
    row('Serving overhead (API / engine)', `${r2(result.servingOverhead ?? 0)} (median; target >= ${SERVING_OVERHEAD_TARGET})`);
  }
  row('Load average (1 min) before / after', `${result.machine.loadAvg1.before.toFixed(2)} / ${result.machine.loadAvg1.after.toFixed(2)} on ${result.machine.cpus} CPUs`);
  lines.push('='.repeat(50));
  return lines.join('\n') + '\n';
}
