// StepCostModel: predicts how long a step takes from what it computes, fitted online from the
// step times the workers report. A step costs perStep (weights read, launch, sampling) +
// perToken × tokens (the linears) + perPair × attention pairs (each new token attends to every
// earlier position of its sequence: a chunk of n tokens from position s has n·s + n(n+1)/2
// pairs). The fit is least squares over the last WINDOW reported steps with every coefficient
// kept >= 0 (an exact non-negative solve: each subset of the three features, the best feasible
// one), so noise cannot turn a cost into a gain. Pure; the prefill budget (prefill-budget.ts)
// uses it to size long prompts' chunks.

import type { SchedulerOutput } from './scheduler-output';

/** What a step (or a part of it) computes: the features of the model. */
export interface StepWork {
  numTokens: number;
  numPairs: number;
}

export interface StepCostCoefficients {
  perStep: number;
  perToken: number;
  perPair: number;
}

/** Reported steps the fit looks back on. */
export const COST_WINDOW = 64;
/** Reported steps needed before the model predicts anything. */
export const MIN_COST_SAMPLES = 8;

/** Attention pairs of a chunk of n tokens at positions start .. start + n - 1. */
export function chunkPairs(start: number, n: number): number {
  return n * start + (n * (n + 1)) / 2;
}

/** The work of a scheduled step, from its entries. */
export function stepWork(out: Pick<SchedulerOutput<unknown>, 'scheduled'>): StepWork {
  let numTokens = 0;
  let numPairs = 0;
  for (const e of out.scheduled) {
    numTokens += e.tokens.length;
    numPairs += chunkPairs(e.startPos, e.tokens.length);
  }
  return { numTokens, numPairs };
}

// features scaled to comparable magnitudes (tokens in thousands, pairs in millions)
const TOKEN_SCALE = 1e-3;
const PAIR_SCALE = 1e-6;
const features = (w: StepWork): [number, number, number] => [1, w.numTokens * TOKEN_SCALE, w.numPairs * PAIR_SCALE];
const SUBSETS = [[0, 1, 2], [0, 1], [0, 2], [1, 2], [0], [1], [2]];

export class StepCostModel {
  private readonly samples: Array<{ x: [number, number, number]; y: number }> = [];
  private next = 0;
  private fitted: StepCostCoefficients | undefined;
  private isDirty = false;

  /** How many reported steps the fit uses now. */
  get numSamples(): number {
    return this.samples.length;
  }

  /** Records one reported step: its work and the seconds it took on the workers. */
  observe(work: StepWork, seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0 || work.numTokens === 0) return;
    const sample = { x: features(work), y: seconds };
    if (this.samples.length < COST_WINDOW) this.samples.push(sample);
    else this.samples[this.next] = sample;
    this.next = (this.next + 1) % COST_WINDOW;
    this.isDirty = true;
  }

  /** The fitted coefficients (seconds per step, per token, per pair), or undefined before MIN_COST_SAMPLES steps. */
  get coefficients(): StepCostCoefficients | undefined {
    if (this.samples.length < MIN_COST_SAMPLES) return undefined;
    if (this.isDirty) {
      this.fitted = this.fit();
      this.isDirty = false;
    }
    return this.fitted;
  }

  /** Predicted seconds of a step doing `work`, or undefined while unfitted. */
  predict(work: StepWork): number | undefined {
    const c = this.coefficients;
    return c === undefined ? undefined : c.perStep + c.perToken * work.numTokens + c.perPair * work.numPairs;
  }

  private fit(): StepCostCoefficients {
    const g = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
    const b = [0, 0, 0];
    for (const { x, y } of this.samples) {
      for (let i = 0; i < 3; i++) {
        b[i] += x[i] * y;
        for (let j = 0; j < 3; j++) g[i][j] += x[i] * x[j];
      }
    }
    let best: number[] = [0, 0, 0];
    let bestLoss = 0; // the all-zero model: loss relative to sum y² is 0
    for (const subset of SUBSETS) {
      const beta = solveSubset(g, b, subset);
      if (beta === undefined || beta.some((v) => v < 0)) continue;
      // loss - sum y² = β·Gβ - 2β·b
      let loss = 0;
      for (let i = 0; i < 3; i++) {
        loss -= 2 * beta[i] * b[i];
        for (let j = 0; j < 3; j++) loss += beta[i] * g[i][j] * beta[j];
      }
      if (loss < bestLoss) [best, bestLoss] = [beta, loss];
    }
    return { perStep: best[0], perToken: best[1] * TOKEN_SCALE, perPair: best[2] * PAIR_SCALE };
  }
}

/** Least squares on the features in `subset` (the others 0); undefined when they are collinear. */
function solveSubset(g: number[][], b: number[], subset: number[]): number[] | undefined {
  const k = subset.length;
  const a = subset.map((i) => [...subset.map((j) => g[i][j]), b[i]]);
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    if (Math.abs(a[pivot][col]) <= 1e-9 * g[subset[col]][subset[col]]) return undefined; // collinear (or always 0)
    [a[col], a[pivot]] = [a[pivot], a[col]];
    for (let r = 0; r < k; r++) {
      if (r === col) continue;
      const f = a[r][col] / a[col][col];
      for (let c = col; c <= k; c++) a[r][c] -= f * a[col][c];
    }
  }
  const beta = [0, 0, 0];
  subset.forEach((i, r) => (beta[i] = a[r][k] / a[r][r]));
  return beta;
}
