// StepCostModel: the online non-negative least-squares fit recovers a known cost law, never
// returns a negative coefficient, forgets steps older than its window, and counts attention
// pairs as a hand count does.
import { describe, expect, it } from 'vitest';
import { COST_WINDOW, MIN_COST_SAMPLES, StepCostModel, chunkPairs, stepWork } from './step-cost-model';
import { mulberry32 } from './testing/invariants';

const TRUE = { perStep: 0.012, perToken: 2e-5, perPair: 3e-9 };
const cost = (c: typeof TRUE, w: { numTokens: number; numPairs: number }): number => c.perStep + c.perToken * w.numTokens + c.perPair * w.numPairs;

function randomWork(rng: () => number): { numTokens: number; numPairs: number } {
  const decodes = 1 + Math.floor(rng() * 8);
  const chunk = rng() < 0.5 ? 0 : 1 + Math.floor(rng() * 512);
  const start = Math.floor(rng() * 50_000);
  const numPairs = decodes * chunkPairs(300, 1) + (chunk > 0 ? chunkPairs(start, chunk) : 0);
  return { numTokens: decodes + chunk, numPairs };
}

describe('chunkPairs / stepWork', () => {
  it('counts every (query, key) pair of causal attention', () => {
    // positions 10, 11, 12 attend to 11, 12 and 13 positions
    expect(chunkPairs(10, 3)).toBe(11 + 12 + 13);
    expect(chunkPairs(0, 1)).toBe(1);
    const naive = (s: number, n: number): number => Array.from({ length: n }, (_, i) => s + i + 1).reduce((a, b) => a + b, 0);
    for (const [s, n] of [[0, 100], [4096, 7], [123, 1]]) expect(chunkPairs(s, n)).toBe(naive(s, n));
    const w = stepWork({ scheduled: [{ requestId: 1, tokens: [5, 6], startPos: 3, newBlockIds: [], sample: true }, { requestId: 2, tokens: [1], startPos: 9, newBlockIds: [], sample: true }] });
    expect(w).toEqual({ numTokens: 3, numPairs: 4 + 5 + 10 });
  });
});

describe('StepCostModel', () => {
  it('predicts nothing before it has seen enough steps', () => {
    const m = new StepCostModel();
    for (let i = 0; i < MIN_COST_SAMPLES - 1; i++) m.observe({ numTokens: 8, numPairs: 800 + i }, 0.01);
    expect(m.predict({ numTokens: 8, numPairs: 800 })).toBeUndefined();
    m.observe({ numTokens: 8, numPairs: 900 }, 0.01);
    expect(m.predict({ numTokens: 8, numPairs: 800 })).toBeCloseTo(0.01, 6);
  });

  it('recovers the coefficients of a noise-free cost law', () => {
    const rng = mulberry32(3);
    const m = new StepCostModel();
    for (let i = 0; i < COST_WINDOW; i++) {
      const w = randomWork(rng);
      m.observe(w, cost(TRUE, w));
    }
    const c = m.coefficients!;
    expect(c.perStep).toBeCloseTo(TRUE.perStep, 8);
    expect(c.perToken / TRUE.perToken).toBeCloseTo(1, 5);
    expect(c.perPair / TRUE.perPair).toBeCloseTo(1, 5);
  });

  it('keeps every coefficient >= 0 and predicts within the noise of a noisy law', () => {
    const rng = mulberry32(9);
    const m = new StepCostModel();
    for (let i = 0; i < 200; i++) {
      const w = randomWork(rng);
      m.observe(w, cost(TRUE, w) * (0.9 + 0.2 * rng()));
      const c = m.coefficients;
      if (c === undefined) continue;
      expect(Math.min(c.perStep, c.perToken, c.perPair)).toBeGreaterThanOrEqual(0);
    }
    for (let i = 0; i < 50; i++) {
      const w = randomWork(rng);
      expect(Math.abs(m.predict(w)! / cost(TRUE, w) - 1)).toBeLessThan(0.25);
    }
  });

  it('clips a feature whose least-squares weight would be negative', () => {
    // time falls with tokens: unconstrained least squares gives perToken < 0
    const m = new StepCostModel();
    for (let i = 0; i < 20; i++) m.observe({ numTokens: 1 + i * 10, numPairs: 0 }, 0.05 - i * 0.001);
    const c = m.coefficients!;
    expect(c.perToken).toBe(0);
    expect(c.perStep).toBeGreaterThan(0);
  });

  it('forgets steps older than its window', () => {
    const m = new StepCostModel();
    const rng = mulberry32(5);
    const slow = { ...TRUE, perPair: 10 * TRUE.perPair };
    for (let i = 0; i < 3 * COST_WINDOW; i++) {
      const w = randomWork(rng);
      m.observe(w, cost(i < 2 * COST_WINDOW ? TRUE : slow, w));
    }
    expect(m.numSamples).toBe(COST_WINDOW);
    expect(m.coefficients!.perPair / slow.perPair).toBeCloseTo(1, 5);
  });

  it('ignores steps without work or with a bad time', () => {
    const m = new StepCostModel();
    m.observe({ numTokens: 0, numPairs: 0 }, 0.01);
    m.observe({ numTokens: 4, numPairs: 4 }, Number.NaN);
    m.observe({ numTokens: 4, numPairs: 4 }, -1);
    expect(m.numSamples).toBe(0);
  });
});
