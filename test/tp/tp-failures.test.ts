// Failures of a tensor-parallel group of real worker processes: a rank killed mid-generation or
// stuck (SIGSTOP) fails the group within seconds with an error naming it, and every worker is
// gone afterwards; a bad model path or a tp that does not divide the heads fails LoadModel with a
// clear error and leaves no process; workers exit when the process that spawned them dies, at
// once even in the middle of a long step.
// Needs `npm run build` (dist/ and the addon). Run: npx vitest run test/tp/tp-failures.test.ts
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBenchModel } from '../../apps/cli/src/bench/bench-model';
import { WorkerGroup, WorkerGroupError } from '../../libs/worker-group/src/worker-group';
import { sampledToken } from '../helpers/engine-driver';
import { makeTempDir, randomTokens, removeDir, seededRandom, writeRandomCheckpoint } from '../helpers/random-checkpoint';
import { driverOf, startGroup, TP_SPECS, waitForExit } from '../helpers/tp-cluster';
import { childPids } from '../helpers/worker-pids';

const REPO = path.resolve(__dirname, '../..');
const SPEC = TP_SPECS['seed-all-bias-f32'];
let dir = '';
const open: WorkerGroup[] = [];

beforeAll(() => {
  dir = makeTempDir('tp-failures');
  writeRandomCheckpoint(dir, SPEC);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
  // every test leaves no worker of this process behind
  expect(await waitForExit(childPids(process.pid), 5000)).toEqual([]);
});
afterAll(() => removeDir(dir));

async function group(tp: number, options: Parameters<typeof startGroup>[2] = {}): Promise<WorkerGroup> {
  const g = await startGroup(dir, tp, options);
  open.push(g);
  return g;
}

/** Generates greedily until the returned promise rejects (it never resolves). */
function generateForever(g: WorkerGroup): { steps: () => number; done: Promise<unknown> } {
  const driver = driverOf(g);
  const seqId = driver.newSeqId();
  let numSteps = 0;
  const done = (async () => {
    let next = randomTokens(8, SPEC.vocabSize, seededRandom(9));
    for (;;) {
      const out = await driver.step([{ seqId, tokens: next, sample: true }]);
      next = [sampledToken(out, seqId)];
      numSteps++;
      // stay inside the KV cache: start over before it fills
      if (numSteps % 500 === 0) await driver.finish([seqId]);
    }
  })();
  return { steps: () => numSteps, done: done.catch((err: unknown) => err) };
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('a rank that dies or hangs mid-generation', () => {
  it.each([1, 0])('SIGKILL of rank %i fails the group naming it within 5 s and leaves no worker', async (victim) => {
    const g = await group(2);
    const pids = g.pids;
    const run = generateForever(g);
    await until(() => run.steps() >= 5);
    const killedAt = Date.now();
    process.kill(pids[victim], 'SIGKILL');
    const err = await run.done;
    const elapsedMs = Date.now() - killedAt;
    expect(err).toBeInstanceOf(WorkerGroupError);
    expect((err as WorkerGroupError).rank).toBe(victim);
    expect((err as Error).message).toMatch(new RegExp(`rank ${victim}\\b.*(exited|SIGKILL)`));
    expect(elapsedMs).toBeLessThan(5000);
    // the survivor is killed by the group rather than left waiting in the all-reduce
    expect(await waitForExit(pids, 5000)).toEqual([]);
    // and the group refuses further steps with the same error
    await expect(g.step({ stepId: 999, newSequences: [], scheduled: [], finished: [] })).rejects.toBe(err);
  });

  it('a stuck rank (SIGSTOP) misses the step deadline and is named as the stuck one', async () => {
    const g = await group(2, { stepTimeoutMs: 1500 });
    const pids = g.pids;
    const run = generateForever(g);
    await until(() => run.steps() >= 3);
    const stoppedAt = Date.now();
    process.kill(pids[1], 'SIGSTOP');
    const err = await run.done;
    expect(err).toBeInstanceOf(WorkerGroupError);
    expect((err as WorkerGroupError).rank).toBe(1);
    expect((err as Error).message).toMatch(/rank 1 .*stuck/);
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    expect(await waitForExit(pids, 5000)).toEqual([]);
  });
});

describe('LoadModel errors', () => {
  it('names a model path that does not exist', async () => {
    const missing = path.join(dir, 'no-such-model');
    const err = await startGroup(missing, 2).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerGroupError);
    expect((err as Error).message).toMatch(/loadModel/i);
    expect((err as Error).message).toContain(missing);
  });

  it('refuses a tp that does not divide the attention heads before loading anything', async () => {
    const err = await startGroup(dir, 3).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerGroupError);
    expect((err as Error).message).toMatch(/tp=3 does not divide num_attention_heads=8/);
  });
});

describe('workers of a dead parent', () => {
  /** Starts a parent process running `body` (with `g`, a tp 2 group on `modelDir`); resolves with the worker pids it prints. */
  async function parentOfGroup(modelDir: string, body: string): Promise<{ parent: ChildProcess; pids: number[] }> {
    const script = `
      const { WorkerGroup } = require(${JSON.stringify(path.join(REPO, 'dist/libs/worker-group/src/worker-group.js'))});
      const { BatchRunner } = require(${JSON.stringify(path.join(REPO, 'dist/apps/cli/src/bench/batch-runner.js'))});
      (async () => {
        const g = await WorkerGroup.start({ modelDir: ${JSON.stringify(modelDir)}, device: 'cpu', tp: 2, numThreadsPerRank: 1, numKvBlocks: 600 });
        const runner = new BatchRunner(g);
        ${body}
      })().catch((e) => { console.error(e); process.exit(3); });`;
    const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: parent.stdout! }).once('line', resolve);
      parent.once('exit', (code) => reject(new Error(`the parent exited early (code ${code})`)));
    });
    const pids = JSON.parse(line) as number[];
    expect(pids.length).toBe(2);
    return { parent, pids };
  }

  it('exit when the process that spawned them is killed between steps', async () => {
    const { parent, pids } = await parentOfGroup(dir, `
      await runner.timedPrefill(4, 8);
      await runner.timedDecode(20);
      console.log(JSON.stringify(g.pids));
      for (;;) { await runner.timedDecode(50); await runner.finishAll(); await runner.timedPrefill(4, 8); }`);
    parent.kill('SIGKILL');
    expect(await waitForExit(pids, 5000)).toEqual([]);
  });

  it('exit at once when it is killed during a long step (exit() must not wait for the step)', async () => {
    // ~34M parameters: a prefill of 32 x 256 tokens takes seconds on one core per rank
    const bigDir = makeTempDir('tp-long-step');
    try {
      ensureBenchModel(bigDir, { vocabSize: 1001, hiddenSize: 512, numLayers: 8, numHeads: 8, numKvHeads: 4, headDim: 64, intermediateSize: 2048, attentionBias: true }, () => undefined);
      const { parent, pids } = await parentOfGroup(bigDir, `
        const step = runner.timedPrefill(32, 256);
        console.log(JSON.stringify(g.pids));
        const ms = await step;
        console.error('the long step ended after ' + ms + ' ms: too short for this test');`);
      await new Promise((r) => setTimeout(r, 300));  // the step is now running on both ranks
      parent.kill('SIGKILL');
      expect(await waitForExit(pids, 2000)).toEqual([]);
    } finally {
      removeDir(bigDir);
    }
  });
});
