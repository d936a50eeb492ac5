// A step the workers reject for one sequence (tp 2, real worker processes, a random tiny model):
// a request whose prompt holds a token outside the vocabulary reaches the workers (submitted
// straight to the engine loop, below the HTTP layer that would refuse it with a 400); every rank
// rejects the step before touching state, that request alone ends with a 500 internal_error
// naming the problem, and the greedy streams running beside it finish with the tokens of a
// fault-free run, on the same worker processes, with no restart counted.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../../../libs/tiny-model/src/make-tiny-model';
import { toServerConfig } from '../config/server-config';
import { MetricsService } from '../metrics/metrics.service';
import type { FinishEvent, TokenEvent } from './engine-request';
import { EngineLoopService } from './engine-loop.service';
import { ModelRuntime } from './model-runtime';

let dir: string;
let runtime: ModelRuntime;
let metrics: MetricsService;
let engine: EngineLoopService;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-sequence-fault-'));
  makeTinyModel({ outDir: path.join(dir, 'tiny') });
  const config = toServerConfig({ model: path.join(dir, 'tiny'), tp: 2, threadsPerRank: 1, maxNumSeqs: 8, restartBudget: { maxRestarts: 3, windowMs: 600_000 } });
  runtime = await ModelRuntime.load(config, () => undefined);
  metrics = new MetricsService();
  engine = new EngineLoopService(runtime, metrics);
}, 120_000);

afterAll(async () => {
  await engine?.onModuleDestroy();
  await runtime?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function submit(prompt: number[], maxTokens: number, onToken?: (e: TokenEvent) => void): { tokens: number[]; finished: Promise<FinishEvent> } {
  const tokens: number[] = [];
  let resolve!: (e: FinishEvent) => void;
  const finished = new Promise<FinishEvent>((r) => (resolve = r));
  engine.submit({
    promptTokens: prompt,
    params: { temperature: 0 },
    maxTokens,
    ignoreEos: true,
    listener: { onToken: (e) => { tokens.push(e.token); onToken?.(e); }, onFinish: resolve },
  });
  return { tokens, finished };
}

async function restarts(): Promise<string> {
  return (await metrics.registry.getSingleMetricAsString('tpserve_worker_restarts_total')).split('\n').filter((l) => !l.startsWith('#')).join('\n');
}

const PROMPTS = [[5, 6, 7], [40, 41], [9, 19, 29, 39], [100, 3]];

describe('EngineLoopService: a step rejected for one sequence', () => {
  it('ends that request with a 500 and the others finish as without it, with no restart', async () => {
    const baseline = PROMPTS.map((p) => submit(p, 40));
    await Promise.all(baseline.map((r) => r.finished));
    const pids = runtime.executor.pids;
    const restartsBefore = await restarts();
    const badToken = runtime.info.vocabSize + 7;
    let bad: Promise<FinishEvent> | undefined;
    const runs = PROMPTS.map((p, i) => submit(p, 40, () => {
      if (i === 0 && runs[0]?.tokens.length === 10) bad = submit([1, badToken, 2], 8).finished;
    }));
    const ends = await Promise.all(runs.map((r) => r.finished));
    expect(bad).toBeDefined();
    const badEnd = await bad!;
    expect(badEnd.reason).toBe('error');
    expect(badEnd.error?.status).toBe(500);
    expect(badEnd.error?.code).toBe('internal_error');
    expect(badEnd.error?.message).toMatch(new RegExp(`token ${badToken} outside the vocabulary`));
    ends.forEach((e) => expect(e.reason).toBe('length'));
    runs.forEach((r, i) => expect(r.tokens).toEqual(baseline[i].tokens));
    expect(runtime.executor.pids).toEqual(pids);
    expect(await restarts()).toBe(restartsBefore);
    expect(engine.isHealthy).toBe(true);
    expect(engine.scheduler.getStats()).toMatchObject({ numRunning: 0, numWaiting: 0 });
    expect((await submit([1, 2], 4).finished).reason).toBe('length');
  }, 180_000);
});
