// Unit tests of `tpserve bench`'s pure parts: percentiles and summaries against hand-computed
// values, Poisson arrivals, the prompt-length fit. Run: npx vitest run apps/cli/src/bench
import { describe, expect, it } from 'vitest';
import { fitTokens, wordsFor } from './serving-prompts';
import { arrivalTimesMs } from './serving-runner';
import { distribution, percentile, summarize, type RequestResult } from './serving-stats';

const ONE_TO_TEN = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

describe('percentile (linear interpolation, as numpy)', () => {
  it.each([
    [0, 1],
    [50, 5.5], // rank 4.5: between 5 and 6
    [90, 9.1], // rank 8.1
    [99, 9.91], // rank 8.91
    [100, 10],
  ])('p%d of 1..10 is %d', (p, expected) => {
    expect(percentile(ONE_TO_TEN, p)).toBeCloseTo(expected, 10);
  });

  it('sorts its input and leaves it alone', () => {
    const values = [10, 1, 5];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 90)).toBeCloseTo(9, 10); // rank 1.8: 5 + 0.8 * 5
    expect(values).toEqual([10, 1, 5]);
  });

  it('handles one value, no values and a bad p', () => {
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBe(0);
    expect(() => percentile([1], 101)).toThrow(/outside/);
  });
});

describe('distribution', () => {
  it('mean, median, p90, p99 and population std by hand', () => {
    const d = distribution([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(d.mean).toBe(5);
    expect(d.std).toBe(2);
    expect(d.median).toBe(4.5); // rank 3.5
    expect(d.p90).toBeCloseTo(7.6, 10); // rank 6.3: 7 + 0.3 * 2
    expect(d.p99).toBeCloseTo(8.86, 10); // rank 6.93
  });
});

describe('summarize', () => {
  const ok = (r: Partial<RequestResult>): RequestResult => ({ isSuccess: true, inputTokens: 0, outputTokens: 0, ttftMs: 0, itlMs: [], e2eMs: 0, numChunks: 0, ...r });
  const results = [
    ok({ inputTokens: 10, outputTokens: 5, ttftMs: 100, itlMs: [10, 20, 30, 40], e2eMs: 200 }), // TPOT (200 - 100) / 4 = 25
    ok({ inputTokens: 20, outputTokens: 1, ttftMs: 50, e2eMs: 50 }), // one token: no TPOT
    { ...ok({ inputTokens: 99, outputTokens: 99, ttftMs: 1 }), isSuccess: false, error: 'HTTP 500' },
  ];
  const s = summarize(results, 2);

  it('counts only successful requests in tokens and throughput', () => {
    expect(s).toMatchObject({ numCompleted: 2, numFailed: 1, totalInputTokens: 30, totalOutputTokens: 6 });
    expect(s).toMatchObject({ requestsPerS: 1, inputTokensPerS: 15, outputTokensPerS: 3, totalTokensPerS: 18 });
  });

  it('computes TTFT, TPOT, ITL and E2E distributions', () => {
    expect(s.ttftMs).toMatchObject({ mean: 75, median: 75 });
    expect(s.tpotMs).toMatchObject({ mean: 25, median: 25, p99: 25 });
    expect(s.itlMs.mean).toBe(25);
    expect(s.itlMs.p90).toBeCloseTo(37, 10); // rank 2.7 of [10, 20, 30, 40]
    expect(s.e2eMs).toMatchObject({ mean: 125, median: 125 });
  });
});

describe('arrivals and prompt sizing', () => {
  it('sends everything at once for an infinite rate', () => {
    expect(arrivalTimesMs(4, Infinity, 0)).toEqual([0, 0, 0, 0]);
  });

  it('draws Poisson arrivals: increasing, reproducible, mean gap 1 / rate', () => {
    const times = arrivalTimesMs(4000, 10, 3);
    expect(times).toEqual(arrivalTimesMs(4000, 10, 3));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1])).toBe(true);
    const meanGapMs = times[times.length - 1] / (times.length - 1);
    expect(meanGapMs).toBeGreaterThan(95);
    expect(meanGapMs).toBeLessThan(105);
  });

  it('fits tokens = fixed + perWord * words from two measurements', () => {
    const fit = fitTokens({ words: 16, tokens: 37 }, { words: 160, tokens: 325 });
    expect(fit).toEqual({ fixedTokens: 5, tokensPerWord: 2 });
    expect(wordsFor(fit, 128)).toBe(62); // (128 - 5) / 2 = 61.5
    expect(wordsFor(fit, 1)).toBe(1);
  });
});
