// --max-prefill-step-ratio end to end on a real worker group (tp 1, a random tiny model, a real
// worker process): the engine loop feeds the workers' step times to the scheduler's cost model,
// and a long prompt admitted beside decoding streams, chunked by the budget, yields the same
// greedy tokens as on a second group without the budget (alone: full chunks), as do the streams.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../../../libs/tiny-model/src/make-tiny-model';
import { toServerConfig } from '../config/server-config';
import { MetricsService } from '../metrics/metrics.service';
import type { FinishEvent } from './engine-request';
import { EngineLoopService } from './engine-loop.service';
import { ModelRuntime } from './model-runtime';

let dir: string;
const runtimes: ModelRuntime[] = [];
let engine: EngineLoopService; // --max-prefill-step-ratio 1.5
let reference: EngineLoopService; // no budget

async function start(maxPrefillStepRatio: number): Promise<EngineLoopService> {
  const config = toServerConfig({ model: path.join(dir, 'tiny'), tp: 1, threadsPerRank: 1, maxNumSeqs: 8, maxNumBatchedTokens: 64, maxPrefillStepRatio });
  const runtime = await ModelRuntime.load(config, () => undefined);
  runtimes.push(runtime);
  return new EngineLoopService(runtime, new MetricsService());
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-prefill-budget-'));
  makeTinyModel({ outDir: path.join(dir, 'tiny') });
  [engine, reference] = [await start(1.5), await start(0)];
});

afterAll(async () => {
  await engine?.onModuleDestroy();
  await reference?.onModuleDestroy();
  for (const r of runtimes) await r.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function generate(prompt: number[], maxTokens: number, on = engine): { id: number; tokens: number[]; finished: Promise<FinishEvent> } {
  const tokens: number[] = [];
  let resolve!: (e: FinishEvent) => void;
  const finished = new Promise<FinishEvent>((r) => (resolve = r));
  const id = on.submit({ promptTokens: prompt, params: { temperature: 0 }, maxTokens, ignoreEos: true, listener: { onToken: (e) => void tokens.push(e.token), onFinish: resolve } });
  return { id, tokens, finished };
}

const LONG = Array.from({ length: 700 }, (_, i) => 3 + ((i * 37) % 90));
const STREAMS = [[5, 6, 7], [40, 41], [9, 19, 29, 39]];

describe('prefill cost budget in the engine loop', () => {
  it('chunks a long prompt beside decodes without changing any output', async () => {
    const alone = generate(LONG, 8, reference);
    await alone.finished;
    const streamsAlone = STREAMS.map((p) => generate(p, 80, reference));
    await Promise.all(streamsAlone.map((r) => r.finished));

    const streams = STREAMS.map((p) => generate(p, 80));
    while (streams.some((s) => s.tokens.length < 12)) await new Promise((r) => setTimeout(r, 5)); // decoding, and the model fitted
    // the chunks the budget gives the long prompt (the real schedule(), observed)
    const schedule = engine.scheduler.schedule.bind(engine.scheduler);
    const chunks: number[] = [];
    let longId = -1;
    engine.scheduler.schedule = (now) => {
      const out = schedule(now);
      for (const e of out.scheduled) if (e.requestId === longId && e.startPos < LONG.length) chunks.push(e.tokens.length);
      return out;
    };
    const long = generate(LONG, 8);
    longId = long.id;
    const ends = await Promise.all([long.finished, ...streams.map((s) => s.finished)]);
    ends.forEach((e) => expect(e.reason).toBe('length'));
    expect(long.tokens).toEqual(alone.tokens);
    streams.forEach((s, i) => expect(s.tokens).toEqual(streamsAlone[i].tokens));
    engine.scheduler.schedule = schedule;
    expect(chunks.reduce((a, n) => a + n, 0)).toBe(LONG.length);
    expect(chunks[0]).toBeLessThanOrEqual(16); // the budget's ramp, where the reference took 64 - 3 decodes
    const c = engine.scheduler.stepCostCoefficients;
    expect(c).toBeDefined(); // the loop reported the workers' step times
    expect(c!.perStep + c!.perToken + c!.perPair).toBeGreaterThan(0);
  });
});
