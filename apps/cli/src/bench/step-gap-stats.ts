// The time between steps over a `tpserve bench` run, from two scrapes of /metrics: the mean, the
// median and p99 estimated from tpserve_step_wait_seconds' buckets (linear inside a bucket, as
// Prometheus' histogram_quantile), the share of steps under 0.1 ms, and the wait split by why each
// step was sent when it was (tpserve_step_wait_cause_*: sent ahead, or why it could not be).
import { METRIC } from '../../../../libs/metrics/src/metric-names';

export interface StepGapStats {
  numSteps: number;
  meanMs: number;
  /** Bucket estimates (ms); the largest finite bound when the quantile lies past it. */
  medianMs: number;
  p99Ms: number;
  /** Share of the steps whose wait was at most 0.1 ms (a bucket bound). */
  fractionUnder100us: number;
  /** cause → steps and their summed wait (ms). */
  byCause: Record<string, { steps: number; totalMs: number }>;
}

type Scrape = Map<string, number>;

function delta(before: Scrape, after: Scrape, key: string): number {
  return (after.get(key) ?? 0) - (before.get(key) ?? 0);
}

/** The cumulative bucket counts of the run, sorted by bound (seconds; +Inf last). */
export function bucketDeltas(before: Scrape, after: Scrape, name: string): Array<{ le: number; count: number }> {
  const prefix = `${name}_bucket{le="`;
  const out: Array<{ le: number; count: number }> = [];
  for (const key of after.keys()) {
    if (!key.startsWith(prefix)) continue;
    const bound = key.slice(prefix.length, key.indexOf('"', prefix.length));
    out.push({ le: bound === '+Inf' ? Infinity : Number(bound), count: delta(before, after, key) });
  }
  return out.sort((a, b) => a.le - b.le);
}

/** histogram_quantile over cumulative buckets: linear between a bucket's bounds (the first starts at 0). */
export function bucketQuantile(buckets: ReadonlyArray<{ le: number; count: number }>, q: number): number {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return 0;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return lower;
      return lower + ((b.le - lower) * (rank - below)) / Math.max(1e-12, b.count - below);
    }
    lower = b.le;
    below = b.count;
  }
  return lower;
}

/** undefined when the server exports no step wait histogram or no step was counted. */
export function stepGapStats(before: Scrape | undefined, after: Scrape | undefined): StepGapStats | undefined {
  if (!before || !after) return undefined;
  const name = METRIC.stepWaitSeconds;
  const numSteps = delta(before, after, `${name}_count`);
  if (!(numSteps > 0)) return undefined;
  const buckets = bucketDeltas(before, after, name);
  const r4 = (x: number): number => Math.round(x * 10000) / 10000;
  const under = buckets.find((b) => Math.abs(b.le - 0.0001) < 1e-12)?.count ?? 0;
  const byCause: StepGapStats['byCause'] = {};
  const causePrefix = `${METRIC.stepWaitCauseStepsTotal}{cause="`;
  for (const key of after.keys()) {
    if (!key.startsWith(causePrefix)) continue;
    const cause = key.slice(causePrefix.length, key.indexOf('"', causePrefix.length));
    const steps = delta(before, after, key);
    if (steps <= 0) continue;
    byCause[cause] = { steps, totalMs: r4(delta(before, after, `${METRIC.stepWaitCauseSecondsTotal}{cause="${cause}"}`) * 1000) };
  }
  return {
    numSteps,
    meanMs: r4((delta(before, after, `${name}_sum`) * 1000) / numSteps),
    medianMs: r4(bucketQuantile(buckets, 0.5) * 1000),
    p99Ms: r4(bucketQuantile(buckets, 0.99) * 1000),
    fractionUnder100us: r4(under / numSteps),
    byCause,
  };
}
