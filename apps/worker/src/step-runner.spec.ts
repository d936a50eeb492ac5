// The worker's step path on a real engine (a random tiny model, CPU): a decode sent before the
// previous step's reply carries a placeholder and computes exactly the token the engine sampled
// (the same tokens as steps sent one at a time with the tokens filled in); a placeholder with no
// sample behind it is rejected for that sequence alone; and wait_us tells an engine that sat
// idle between two steps from one whose next step was already queued. Needs the built addon.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeEngine } from '../../../libs/native/src/native-engine';
import { makeTinyModel } from '../../../libs/tiny-model/src/make-tiny-model';
import type { ProtoStepRequest } from '../../../libs/worker-protocol/src/step-codec';
import { StepRunner } from './step-runner';

let dir: string;
let engine: NativeEngine;
let runner: StepRunner;
let nextStepId = 1;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-step-runner-'));
  makeTinyModel({ outDir: path.join(dir, 'tiny') });
  engine = await NativeEngine.load({ modelDir: path.join(dir, 'tiny'), device: 'cpu', numThreads: 1, numKvBlocks: 64, kvBlockSize: 16 });
  runner = new StepRunner(() => engine, () => 0, () => undefined);
}, 120_000);

afterAll(() => {
  engine?.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const PLACEHOLDER = -1;

function prefill(seqId: number, prompt: number[], block: number): ProtoStepRequest {
  return {
    stepId: nextStepId++,
    newSequences: [{ seqId, params: { temperature: 0 }, numPromptTokens: prompt.length, promptTokens: prompt }],
    scheduled: [{ seqId, tokens: prompt, startPos: 0, newBlockIds: [block], sample: true }],
    finished: [],
    shareSamples: true,
  };
}

function decode(seqId: number, token: number, startPos: number): ProtoStepRequest {
  return { stepId: nextStepId++, scheduled: [{ seqId, tokens: [token], startPos, newBlockIds: [], sample: true }], finished: [], shareSamples: true };
}

const sampled = (res: { samples?: Array<{ token?: number }> }): number => res.samples?.[0]?.token ?? -2;

describe('StepRunner (one rank, real engine)', () => {
  it('fills a placeholder with the token it sampled last step, as a step sent after the reply would', async () => {
    const prompt = [5, 6, 7, 8, 9];
    // one at a time, the tokens filled in by the caller
    const want: number[] = [sampled(await runner.run(prefill(1, prompt, 0)))];
    for (let i = 0; i < 4; i++) want.push(sampled(await runner.run(decode(1, want[i], prompt.length + i))));
    // pipelined: every step sent before the one ahead of it answered
    const replies = [runner.run(prefill(2, prompt, 1)), ...[0, 1, 2, 3].map((i) => runner.run(decode(2, PLACEHOLDER, prompt.length + i)))];
    expect((await Promise.all(replies)).map(sampled)).toEqual(want);
  });

  it('rejects a placeholder that has no sample behind it for that sequence alone', async () => {
    await runner.run(prefill(3, [1, 2, 3], 2));
    const err = await runner.run(decode(3, PLACEHOLDER, 7)).catch((e: unknown) => e as { seqId?: number; message: string });
    expect(err).toMatchObject({ seqId: 3 });
    expect(err.message).toMatch(/placeholder at position 7/);
    // the sequence is untouched: the right position still decodes
    expect(sampled(await runner.run(decode(3, PLACEHOLDER, 3)))).toBeGreaterThanOrEqual(0);
  });

  it('reports the engine idle before a step it had to wait for, not before a queued one', async () => {
    await runner.run(prefill(4, [4, 4, 4], 3));
    await new Promise((r) => setTimeout(r, 80));
    const afterPause = await runner.run(decode(4, PLACEHOLDER, 3));
    const [, queued] = await Promise.all([runner.run(decode(4, PLACEHOLDER, 4)), runner.run(decode(4, PLACEHOLDER, 5))]);
    expect(afterPause.timings?.waitUs).toBeGreaterThanOrEqual(70_000);
    expect(queued.timings?.waitUs).toBeLessThan(35_000); // one hop of the event loop, even on a loaded machine
  });
});
