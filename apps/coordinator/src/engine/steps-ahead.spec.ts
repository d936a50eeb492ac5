// Steps sent ahead on a real worker (tp 1, a random tiny model, a real worker process): with two
// steps queued behind the running one (--steps-ahead 2) and with one, greedy streams end with the
// tokens of synchronous scheduling, also when a stop token ends them while later steps already
// carry their speculative tokens, and when requests arrive while steps run (sent behind them at
// once). Each wait the workers report is counted under why its step was sent when it was, and
// --step-trace writes one line per step.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../../../libs/tiny-model/src/make-tiny-model';
import { METRIC } from '../../../../libs/metrics/src/metric-names';
import { toServerConfig, type ServerOptionValues } from '../config/server-config';
import { MetricsService } from '../metrics/metrics.service';
import type { FinishEvent } from './engine-request';
import { EngineLoopService } from './engine-loop.service';
import { ModelRuntime } from './model-runtime';
import type { StepTraceLine } from './step-trace';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-steps-ahead-'));
  makeTinyModel({ outDir: path.join(dir, 'tiny') });
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const PROMPTS = [[5, 6, 7], [40, 41], [9, 19, 29, 39], [100, 3], [7, 7, 7, 7, 7], [61]];

interface Outcome {
  tokens: number[][];
  reasons: string[];
  waitCauses: Record<string, number>;
  trace: StepTraceLine[];
}

/** Runs PROMPTS (the last two submitted once the first stream has 4 tokens) on a fresh engine. */
async function run(options: ServerOptionValues, stopTokenIds: number[][] = []): Promise<Outcome> {
  const traceFile = path.join(dir, `trace-${Math.random().toString(36).slice(2)}.jsonl`);
  const config = toServerConfig({ model: path.join(dir, 'tiny'), tp: 1, threadsPerRank: 1, maxNumSeqs: 8, stepTrace: traceFile, ...options });
  const runtime = await ModelRuntime.load(config, () => undefined);
  const metrics = new MetricsService();
  const engine = new EngineLoopService(runtime, metrics);
  try {
    const tokens: number[][] = PROMPTS.map(() => []);
    const ends: Array<Promise<FinishEvent>> = [];
    const submit = (i: number): void => {
      ends[i] = new Promise<FinishEvent>((onFinish) => {
        engine.submit({
          promptTokens: PROMPTS[i],
          params: { temperature: 0 },
          maxTokens: 24,
          ignoreEos: true,
          stopTokenIds: stopTokenIds[i],
          listener: {
            onToken: (e) => {
              tokens[i].push(e.token);
              if (i === 0 && tokens[0].length === 4) [4, 5].forEach(submit); // arrive while steps run
            },
            onFinish,
          },
        });
      });
    };
    [0, 1, 2, 3].forEach(submit);
    await ends[0];
    const reasons = (await Promise.all(ends)).map((e) => e.reason);
    const waitCauses: Record<string, number> = {};
    for (const m of await metrics.registry.getMetricsAsJSON()) {
      if (m.name !== METRIC.stepWaitCauseStepsTotal) continue;
      for (const v of (m as unknown as { values: Array<{ labels: { cause: string }; value: number }> }).values) waitCauses[v.labels.cause] = v.value;
    }
    expect(engine.scheduler.getStats()).toMatchObject({ numRunning: 0, numWaiting: 0 });
    await engine.onModuleDestroy();
    const trace = fs.readFileSync(traceFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StepTraceLine);
    return { tokens, reasons, waitCauses, trace };
  } finally {
    await engine.onModuleDestroy();
    await runtime.close();
  }
}

describe('steps sent ahead (real worker)', () => {
  it('greedy streams equal synchronous scheduling, stop tokens and late arrivals included', async () => {
    const sync = await run({ asyncScheduling: false });
    sync.reasons.forEach((r) => expect(r).toBe('length'));
    // stop tokens taken from the synchronous run: each stream ends early, at a different step
    const stops = sync.tokens.map((t, i) => [t[2 + 3 * i]]);
    const syncStopped = await run({ asyncScheduling: false }, stops);
    expect(syncStopped.reasons.filter((r) => r === 'stop').length).toBeGreaterThanOrEqual(4);
    expect(syncStopped.waitCauses).toEqual(expect.objectContaining({ synchronous: expect.any(Number) }));
    for (const stepsAhead of [1, 2]) {
      const plain = await run({ asyncScheduling: true, stepsAhead });
      expect(plain.tokens).toEqual(sync.tokens);
      const stopped = await run({ asyncScheduling: true, stepsAhead }, stops);
      expect(stopped.tokens).toEqual(syncStopped.tokens);
      expect(stopped.reasons).toEqual(syncStopped.reasons);
      // back-to-back steps went ahead of the reply before them; none waited for it as if synchronous
      expect(plain.waitCauses.sent_ahead).toBeGreaterThan(10);
      expect(plain.waitCauses.synchronous).toBeUndefined();
      // the trace: one line per applied step, the admissions of all six requests among them
      expect(plain.trace.reduce((n, l) => n + l.numNewRequests, 0)).toBe(PROMPTS.length);
      expect(plain.trace.some((l) => l.numDecodes > 0 && l.cause === 'sent_ahead' && typeof l.waitMs === 'number')).toBe(true);
    }
  }, 180_000);
});
