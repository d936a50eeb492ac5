// `tpserve logits --tp 2` and `tpserve generate --tp 2` run through real worker processes and
// print what `--tp 1` (the engine in-process) prints; the workers are gone when the command ends.
// Needs `npm run build` (dist/ and the addon). Run: npx vitest run test/tp/tp-cli.test.ts
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../libs/tiny-model/src/make-tiny-model';
import { testDevice } from '../helpers/engine-driver';
import { expectLogitsClose } from '../helpers/logits-compare';
import { makeTempDir, removeDir, writeRandomCheckpoint } from '../helpers/random-checkpoint';
import { TP_SPECS, waitForExit } from '../helpers/tp-cluster';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '../..');
const TOKENS = [5, 17, 300, 999, 42, 0, 1000];

/** Runs bin/tpserve.js with one thread per rank; returns stdout and the worker pids it logged. */
async function tpserve(args: string[]): Promise<{ stdout: string; workerPids: number[] }> {
  const bin = process.env.TPSERVE_BIN ?? path.join(REPO, 'bin/tpserve.js');
  const { stdout, stderr } = await run(process.execPath, [bin, ...args, '--device', testDevice(), '--threads', '1'], {
    cwd: REPO,
    maxBuffer: 64 << 20,
    timeout: 90_000,
  });
  // each worker logs "[worker PID] rank R: N/N weight tensors mapped" once loading is done
  const workerPids = [...stderr.matchAll(/\[worker (\d+)\] rank \d+: (\d+)\/\2 weight tensors mapped/g)].map((m) => Number(m[1]));
  return { stdout, workerPids };
}

describe('tpserve logits --tp 2', () => {
  let dir = '';
  beforeAll(() => {
    dir = makeTempDir('tp-cli-logits');
    writeRandomCheckpoint(dir, TP_SPECS['seed-all-bias-f32']);
  });
  afterAll(() => removeDir(dir));

  it('prints the logits of every position that --tp 1 prints', async () => {
    const args = ['logits', '--model', dir, '--tokens', TOKENS.join(','), '--all'];
    const [tp1, tp2] = await Promise.all([tpserve([...args, '--tp', '1']), tpserve([...args, '--tp', '2'])]);
    const expected = JSON.parse(tp1.stdout) as number[][];
    const rows = JSON.parse(tp2.stdout) as number[][];
    expect(expected.length).toBe(TOKENS.length);
    expect(rows[0].length).toBe(1001);
    expectLogitsClose(rows, expected, 1e-5, 'tpserve logits --tp 2 vs --tp 1');
    expect(tp1.workerPids).toEqual([]);
    expect(tp2.workerPids.length).toBe(2);
    expect(await waitForExit(tp2.workerPids, 5000)).toEqual([]);
  });
});

describe('tpserve generate --tp 2', () => {
  let dir = '';
  beforeAll(() => {
    // generate needs a tokenizer: the tiny Seed-OSS model (4 q / 2 kv heads), in f32
    dir = makeTempDir('tp-cli-generate');
    makeTinyModel({ outDir: dir, dtype: 'f32', seed: 3 });
  });
  afterAll(() => removeDir(dir));

  it('streams the same greedy text as --tp 1', async () => {
    const args = ['generate', '--model', dir, '--prompt', 'The capital of France is', '--max-tokens', '16', '--temperature', '0', '--ignore-eos'];
    const [tp1, tp2] = await Promise.all([tpserve([...args, '--tp', '1']), tpserve([...args, '--tp', '2'])]);
    expect(tp1.stdout.trim().length).toBeGreaterThan(0);
    expect(tp2.stdout).toBe(tp1.stdout);
    expect(tp2.workerPids.length).toBe(2);
    expect(await waitForExit(tp2.workerPids, 5000)).toEqual([]);
  });
});
