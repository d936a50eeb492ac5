// EngineLoopService on a real worker group (tp 1, a random tiny model, a real worker process):
// a throwing listener ends its own request only (500 internal_error) and the rest finish;
// forced start tokens reach the listener only after submit() returned the id; a killed rank is
// replaced and every running sequence finishes with the tokens of a fault-free run.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../../../libs/tiny-model/src/make-tiny-model';
import { toServerConfig } from '../config/server-config';
import { MetricsService } from '../metrics/metrics.service';
import type { FinishEvent, SequenceRequest, TokenEvent } from './engine-request';
import { EngineLoopService } from './engine-loop.service';
import { ModelRuntime } from './model-runtime';

let dir: string;
let runtime: ModelRuntime;
let engine: EngineLoopService;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-engine-loop-'));
  makeTinyModel({ outDir: path.join(dir, 'tiny') });
  const config = toServerConfig({ model: path.join(dir, 'tiny'), tp: 1, threadsPerRank: 1, maxNumSeqs: 8, restartBudget: { maxRestarts: 3, windowMs: 600_000 } });
  runtime = await ModelRuntime.load(config, () => undefined);
  engine = new EngineLoopService(runtime, new MetricsService());
});

afterAll(async () => {
  await engine?.onModuleDestroy();
  await runtime?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface Run {
  tokens: number[];
  finished: Promise<FinishEvent>;
}

function submit(prompt: number[], maxTokens: number, extra: Partial<SequenceRequest> = {}, onToken?: (e: TokenEvent) => void): Run & { id: number } {
  const tokens: number[] = [];
  let resolve!: (e: FinishEvent) => void;
  const finished = new Promise<FinishEvent>((r) => (resolve = r));
  const id = engine.submit({
    promptTokens: prompt,
    params: { temperature: 0 },
    maxTokens,
    ignoreEos: true,
    listener: {
      onToken: (e) => {
        tokens.push(e.token);
        onToken?.(e);
      },
      onFinish: resolve,
    },
    ...extra,
  });
  return { id, tokens, finished };
}

const PROMPTS = [[5, 6, 7], [40, 41], [9, 19, 29, 39], [100, 3]];

describe('EngineLoopService', () => {
  it('ends only the request whose listener throws, with a 500', async () => {
    const runs = PROMPTS.map((p, i) =>
      submit(p, 24, {}, (e) => {
        if (i === 1 && e.token >= 0 && runs[1]?.tokens.length === 5) throw new Error('parser exploded');
      }),
    );
    const ends = await Promise.all(runs.map((r) => r.finished));
    expect(ends[1].reason).toBe('error');
    expect(ends[1].error?.status).toBe(500);
    expect(ends[1].error?.code).toBe('internal_error');
    expect(ends[1].error?.message).toMatch(/parser exploded/);
    for (const i of [0, 2, 3]) {
      expect(ends[i].reason).toBe('length');
      expect(runs[i].tokens).toHaveLength(24);
    }
    expect(engine.isHealthy).toBe(true);
    const after = submit([1, 2], 4);
    expect((await after.finished).reason).toBe('length');
  });

  it('delivers forced start tokens only after submit() returned the id', async () => {
    let returned: number | undefined;
    let seenBeforeReturn = false;
    let idAtFirstToken: number | undefined;
    const run = submit([7, 8], 6, { forcer: { start: () => [11, 12], onToken: () => [] } }, () => {
      if (returned === undefined) seenBeforeReturn = true;
      idAtFirstToken ??= returned;
    });
    returned = run.id;
    expect(seenBeforeReturn).toBe(false);
    expect((await run.finished).reason).toBe('length');
    expect(idAtFirstToken).toBe(run.id);
    expect(run.tokens.slice(0, 2)).toEqual([11, 12]);
    expect(run.tokens).toHaveLength(6);
  });

  it('replaces a killed rank and every running sequence finishes as without the fault', async () => {
    const baseline = PROMPTS.map((p) => submit(p, 60));
    await Promise.all(baseline.map((r) => r.finished));
    const oldPids = runtime.executor.pids;
    const runs = PROMPTS.map((p, i) => submit(p, 60, {}, () => {
      if (i === 0 && runs[0]?.tokens.length === 20) process.kill(oldPids[0], 'SIGKILL');
    }));
    const ends = await Promise.all(runs.map((r) => r.finished));
    ends.forEach((e) => expect(e.reason).toBe('length'));
    runs.forEach((r, i) => expect(r.tokens).toEqual(baseline[i].tokens));
    expect(runtime.executor.pids[0]).not.toBe(oldPids[0]);
    expect(() => process.kill(oldPids[0], 0)).toThrow(); // the old rank is gone (reaped)
    expect(engine.isHealthy).toBe(true);
    expect(engine.scheduler.getStats()).toMatchObject({ numRunning: 0, numWaiting: 0 });
  });
});
