// PrefillBudget alone: under its fitted model the chunk it allows keeps the step within the
// ratio (and is the largest that does), the first chunk of a step always gets one block, an
// unfitted or young model allows only what it has seen, and a step without decodes is unbounded.
import { describe, expect, it } from 'vitest';
import { PrefillBudget, RAMP_START_TOKENS } from './prefill-budget';
import { MIN_COST_SAMPLES, chunkPairs, type StepWork } from './step-cost-model';
import { mulberry32 } from './testing/invariants';

const LAW = { perStep: 0.01, perToken: 1e-5, perPair: 2e-8 };
const seconds = (w: StepWork): number => LAW.perStep + LAW.perToken * w.numTokens + LAW.perPair * w.numPairs;
const BLOCK = 16;

/** A step of `decodes` one-token entries at context `ctx` plus a chunk of n tokens from `start`. */
function step(decodes: number, ctx: number, chunk?: { start: number; n: number }) {
  const scheduled = Array.from({ length: decodes }, (_, i) => ({ requestId: i, tokens: [1], startPos: ctx, newBlockIds: [], sample: true }));
  if (chunk) scheduled.push({ requestId: 99, tokens: new Array<number>(chunk.n).fill(1), startPos: chunk.start, newBlockIds: [], sample: false });
  return { scheduled };
}
const decodeWork = (decodes: number, ctx: number): StepWork => ({ numTokens: decodes, numPairs: decodes * chunkPairs(ctx, 1) });
const workOf = (d: StepWork, start: number, n: number): StepWork => ({ numTokens: d.numTokens + n, numPairs: d.numPairs + chunkPairs(start, n) });

/** A budget whose model has seen steps of the cost law, chunks up to `largest` tokens. */
function trained(ratio: number, largest = 4096): PrefillBudget {
  const b = new PrefillBudget(ratio, BLOCK);
  const rng = mulberry32(11);
  for (let i = 0; i < 64; i++) {
    const s = step(1 + Math.floor(rng() * 8), Math.floor(rng() * 4000), i % 2 === 0 ? { start: Math.floor(rng() * 60_000), n: i === 0 ? largest : 2 + Math.floor(rng() * largest) } : undefined);
    const w = { numTokens: s.scheduled.reduce((a, e) => a + e.tokens.length, 0), numPairs: s.scheduled.reduce((a, e) => a + chunkPairs(e.startPos, e.tokens.length), 0) };
    b.observe(s, seconds(w));
  }
  return b;
}

describe('PrefillBudget', () => {
  it('allows the largest chunk whose predicted step stays within the ratio (random cases)', () => {
    const rng = mulberry32(1);
    for (const ratio of [1.1, 1.5, 2, 4]) {
      const b = trained(ratio);
      for (let k = 0; k < 300; k++) {
        const d = decodeWork(1 + Math.floor(rng() * 16), Math.floor(rng() * 8000));
        const start = Math.floor(rng() * 100_000);
        const wanted = 2 + Math.floor(rng() * 2048);
        b.startStep(d);
        const n = b.cap(start, wanted);
        expect(n).toBeGreaterThanOrEqual(Math.min(BLOCK, wanted)); // never starves
        expect(n).toBeLessThanOrEqual(wanted);
        if (n > BLOCK) expect(seconds(workOf(d, start, n))).toBeLessThanOrEqual(ratio * seconds(d) * (1 + 1e-6));
        if (n < wanted && n >= BLOCK) expect(seconds(workOf(d, start, n + 1))).toBeGreaterThan(ratio * seconds(d) * (1 - 1e-6));
      }
    }
  });

  it('gives the first chunk of a step one block even past the budget, and a later chunk only what is left', () => {
    const b = trained(1.01);
    const d = decodeWork(8, 1000);
    b.startStep(d);
    const first = b.cap(90_000, 2048);
    expect(first).toBe(BLOCK); // 16 tokens over 90K positions cost far more than 1 % of a decode step
    b.charge(90_000, first);
    expect(b.cap(0, 2048)).toBe(0);
    expect(b.cap(5, 1)).toBe(1); // a decode is never capped
  });

  it('splits what is left between two chunks of one step', () => {
    const b = trained(3);
    const d = decodeWork(4, 100);
    b.startStep(d);
    const n1 = b.cap(0, 300);
    b.charge(0, n1);
    const n2 = b.cap(0, 2048);
    b.charge(0, n2);
    const total = LAW.perToken * (n1 + n2) + LAW.perPair * (chunkPairs(0, n1) + chunkPairs(0, n2));
    expect(n1).toBe(300);
    expect(n2).toBeGreaterThan(0);
    expect(seconds(d) + total).toBeLessThanOrEqual(3 * seconds(d) * (1 + 1e-6));
  });

  it('is unbounded without decodes, and allows one block per step while unfitted', () => {
    const b = new PrefillBudget(2, BLOCK);
    b.startStep({ numTokens: 0, numPairs: 0 });
    expect(b.cap(0, 2048)).toBe(2048);
    b.startStep(decodeWork(4, 10));
    expect(b.cap(0, 2048)).toBe(BLOCK);
  });

  it.each([1, BLOCK])('ramps from RAMP_START_TOKENS, at most doubling the largest chunk of its window (floor %i)', (floor) => {
    const b = new PrefillBudget(1000, floor); // the budget itself never binds here
    const d = decodeWork(2, 10);
    let largest = 0;
    for (let i = 0; i < 20; i++) {
      b.startStep(d);
      const n = b.cap(0, 4096);
      // unfitted (fewer than MIN_COST_SAMPLES steps seen): the floor only
      expect(n).toBe(i < MIN_COST_SAMPLES ? floor : Math.min(4096, Math.max(RAMP_START_TOKENS, 2 * largest)));
      largest = n;
      const s = step(2, 10, { start: 0, n });
      b.observe(s, seconds(workOf(d, 0, n)) * 1e-3); // cheap: the budget would allow far more
    }
    expect(largest).toBe(4096);
  });
});
