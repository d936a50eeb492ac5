// The bench's time-between-steps figures from two /metrics scrapes: bucket deltas, quantiles
// (hand-computed linear interpolation inside a bucket), the share under 0.1 ms and the split by
// cause. Run: npx vitest run apps/cli/src/bench/step-gap-stats.spec.ts
import { describe, expect, it } from 'vitest';
import { METRIC } from '../../../../libs/metrics/src/metric-names';
import { bucketQuantile, stepGapStats } from './step-gap-stats';

const W = METRIC.stepWaitSeconds;

function scrape(buckets: Record<string, number>, sum: number, causes: Record<string, [number, number]> = {}): Map<string, number> {
  const m = new Map<string, number>();
  for (const [le, count] of Object.entries(buckets)) m.set(`${W}_bucket{le="${le}"}`, count);
  m.set(`${W}_sum`, sum);
  m.set(`${W}_count`, buckets['+Inf']);
  for (const [cause, [steps, seconds]] of Object.entries(causes)) {
    m.set(`${METRIC.stepWaitCauseStepsTotal}{cause="${cause}"}`, steps);
    m.set(`${METRIC.stepWaitCauseSecondsTotal}{cause="${cause}"}`, seconds);
  }
  return m;
}

describe('bucketQuantile', () => {
  const buckets = [{ le: 0.001, count: 50 }, { le: 0.01, count: 90 }, { le: 0.1, count: 100 }, { le: Infinity, count: 100 }];

  it('interpolates inside the bucket the rank falls in', () => {
    expect(bucketQuantile(buckets, 0.5)).toBeCloseTo(0.001, 12); // rank 50: the first bucket's top
    expect(bucketQuantile(buckets, 0.25)).toBeCloseTo(0.0005, 12); // rank 25 of 50 in [0, 1 ms]
    expect(bucketQuantile(buckets, 0.7)).toBeCloseTo(0.0055, 12); // rank 70: halfway through [1, 10 ms]
    expect(bucketQuantile(buckets, 0.99)).toBeCloseTo(0.091, 12); // rank 99: 9 of 10 into [10, 100 ms]
  });

  it('answers the largest finite bound past it, and 0 without samples', () => {
    expect(bucketQuantile([{ le: 0.001, count: 1 }, { le: Infinity, count: 4 }], 0.99)).toBe(0.001);
    expect(bucketQuantile([{ le: Infinity, count: 0 }], 0.5)).toBe(0);
  });
});

describe('stepGapStats', () => {
  it('takes the run from the difference of two scrapes', () => {
    const before = scrape({ '0.0001': 10, '0.001': 10, '+Inf': 10 }, 0.0002, { sent_ahead: [10, 0.0002] });
    const after = scrape({ '0.0001': 100, '0.001': 108, '+Inf': 110 }, 0.0302, { sent_ahead: [105, 0.0102], last_tokens: [5, 0.02] });
    const gap = stepGapStats(before, after);
    expect(gap).toMatchObject({ numSteps: 100, meanMs: 0.3, fractionUnder100us: 0.9 });
    // rank 50 of 90 steps in [0, 0.1 ms]; rank 99: 1 of the 2 steps past 1 ms, at the bound
    expect(gap?.medianMs).toBeCloseTo((0.1 * 50) / 90, 4);
    expect(gap?.p99Ms).toBe(1);
    expect(gap?.byCause).toEqual({ sent_ahead: { steps: 95, totalMs: 10 }, last_tokens: { steps: 5, totalMs: 20 } });
  });

  it('is undefined without the histogram or without steps', () => {
    expect(stepGapStats(undefined, new Map())).toBeUndefined();
    const same = scrape({ '0.0001': 3, '+Inf': 3 }, 0);
    expect(stepGapStats(same, same)).toBeUndefined();
  });
});
