// The load generator of `tpserve bench`: requests arrive as a Poisson process of `requestRate`
// per second (Infinity: all at once, as vLLM's `--request-rate inf`), and at most
// `maxConcurrency` are in flight (a request that arrives while all slots are taken waits for one).
import { seededRandom } from './serving-prompts';
import { streamRequest, type ServingTarget } from './serving-client';
import type { RequestResult } from './serving-stats';

export interface LoadShape {
  /** Requests per second; Infinity sends them all at t = 0. */
  requestRate: number;
  /** Most requests in flight; undefined for no limit. */
  maxConcurrency?: number;
  seed: number;
}

export interface LoadRun {
  results: RequestResult[];
  /** First request sent → last one finished. */
  durationS: number;
}

/** Arrival offsets (ms from the start) of `n` requests. */
export function arrivalTimesMs(n: number, requestRate: number, seed: number): number[] {
  if (!Number.isFinite(requestRate)) return new Array<number>(n).fill(0);
  const random = seededRandom(seed ^ 0x9e3779b9);
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    out.push(t);
    t += (-Math.log(1 - random()) / requestRate) * 1000; // exponential gaps
  }
  return out;
}

class Semaphore {
  private waiting: Array<() => void> = [];

  constructor(private available: number) {}

  async acquire(): Promise<void> {
    if (this.available > 0) {
      this.available--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.available++;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends every prompt; `onDone(done, total)` after each request finishes. */
export async function runLoad(
  target: ServingTarget,
  prompts: readonly string[],
  outputLen: number,
  shape: LoadShape,
  onDone: (done: number, total: number) => void = () => {},
): Promise<LoadRun> {
  const arrivals = arrivalTimesMs(prompts.length, shape.requestRate, shape.seed);
  const slots = new Semaphore(shape.maxConcurrency ?? prompts.length);
  const results: RequestResult[] = new Array(prompts.length);
  let numDone = 0;
  const started = performance.now();
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < prompts.length; i++) {
    const wait = started + arrivals[i] - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(
      (async () => {
        await slots.acquire();
        try {
          results[i] = await streamRequest(target, prompts[i], outputLen);
        } finally {
          slots.release();
          onDone(++numDone, prompts.length);
        }
      })(),
    );
  }
  await Promise.all(inFlight);
  return { results, durationS: (performance.now() - started) / 1000 };
}
