// PrefillBudget (SchedulerConfig.maxPrefillStepRatio): keeps a step that carries prompt chunks
// within `ratio` × the predicted time of the same step's decodes alone, so streams already
// running keep their inter-token latency while a long prompt is computed beside them. The
// prediction is the StepCostModel fitted from reported step times; a chunk (an entry of more
// than one token) gets the most tokens whose predicted extra cost (linears + attention over its
// context) fits what the step has left. Never starves: the first chunk of every step gets at
// least `minChunkTokens` (the scheduler asks for one token) whatever the budget says. While the
// model is young it is not trusted beyond what it has seen: a chunk is at most twice the largest
// one in the window (a ramp from RAMP_START_TOKENS). Without decodes in the step nothing is
// bounded (nobody waits).

import { COST_WINDOW, StepCostModel, type StepWork, chunkPairs, stepWork } from './step-cost-model';
import type { SchedulerOutput } from './scheduler-output';

/** The trusted chunk size before the window holds any chunk. */
export const RAMP_START_TOKENS = 16;

export class PrefillBudget {
  readonly model = new StepCostModel();
  /** Largest chunk (entry of more than one token) of each of the last reported steps (0: none). */
  private readonly recentChunks: number[] = [];
  private nextRecent = 0;
  /** Seconds the current step may still add to its decodes' time. */
  private extraSeconds = Infinity;
  private hasChunk = false;

  constructor(
    readonly maxStepRatio: number,
    readonly minChunkTokens: number,
  ) {}

  /** Records a reported step and the seconds the workers spent on it. */
  observe(out: Pick<SchedulerOutput<unknown>, 'scheduled'>, seconds: number): void {
    this.model.observe(stepWork(out), seconds);
    const largest = out.scheduled.reduce((m, e) => (e.tokens.length > 1 ? Math.max(m, e.tokens.length) : m), 0);
    if (this.recentChunks.length < COST_WINDOW) this.recentChunks.push(largest);
    else this.recentChunks[this.nextRecent] = largest;
    this.nextRecent = (this.nextRecent + 1) % COST_WINDOW;
  }

  /** Starts planning a step whose decodes (one-token entries) do `decodes`. */
  startStep(decodes: StepWork): void {
    this.hasChunk = false;
    const decodeSeconds = this.model.predict(decodes);
    if (decodes.numTokens === 0) this.extraSeconds = Infinity;
    else this.extraSeconds = decodeSeconds === undefined ? 0 : (this.maxStepRatio - 1) * decodeSeconds;
  }

  /** Tokens of a chunk of at most `wanted` from position `start` the step affords (a decode always). */
  cap(start: number, wanted: number): number {
    if (wanted <= 1 || this.extraSeconds === Infinity) return wanted;
    const trusted = Math.max(RAMP_START_TOKENS, this.minChunkTokens, 2 * Math.max(0, ...this.recentChunks));
    let n = Math.min(wanted, trusted, this.affordable(start));
    if (!this.hasChunk) n = Math.max(n, Math.min(this.minChunkTokens, wanted));
    return n;
  }

  /** Charges a scheduled entry of n tokens from `start` to the step. */
  charge(start: number, n: number): void {
    if (n <= 1) return;
    this.hasChunk = true;
    if (this.extraSeconds !== Infinity) this.extraSeconds -= this.chunkSeconds(start, n);
  }

  /** Predicted seconds a chunk adds to a step (its tokens and its attention pairs); 0 unfitted. */
  chunkSeconds(start: number, n: number): number {
    const c = this.model.coefficients;
    return c === undefined ? 0 : c.perToken * n + c.perPair * chunkPairs(start, n);
  }

  // the most tokens from `start` whose chunkSeconds fit extraSeconds: the root of
  // (perPair/2) n² + (perToken + perPair (start + 1/2)) n = extra, rounded down and checked
  private affordable(start: number): number {
    const c = this.model.coefficients;
    if (c === undefined || this.extraSeconds <= 0) return 0;
    const qa = c.perPair / 2;
    const qb = c.perToken + c.perPair * (start + 0.5);
    if (qa === 0 && qb === 0) return Number.MAX_SAFE_INTEGER;
    const root = qa === 0 ? this.extraSeconds / qb : (-qb + Math.sqrt(qb * qb + 4 * qa * this.extraSeconds)) / (2 * qa);
    let n = Math.floor(Math.min(root, Number.MAX_SAFE_INTEGER));
    while (n > 0 && this.chunkSeconds(start, n) > this.extraSeconds) n--;
    return n;
  }
}
