// `tpserve logits --model DIR --tokens 5,17,300 [--all]` against the float64 reference, on a
// checkpoint written by the test's own writer; plus a clean failure for a token outside the vocab.
// Needs `npm run build` (dist/) and the addon. Run: npx vitest run test/model/logits-cli.test.ts
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ODD_SPECS } from '../helpers/checkpoint-specs';
import { testDevice } from '../helpers/engine-driver';
import { expectLogitsClose } from '../helpers/logits-compare';
import { makeTempDir, removeDir, writeRandomCheckpoint, type RandomCheckpoint } from '../helpers/random-checkpoint';
import { referenceLogits } from '../reference/reference-model';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '../..');
const TOKENS = [5, 17, 300];
// vocab 331 so token 300 exists; otherwise the Seed-OSS-shaped f32 spec
const SPEC = { ...ODD_SPECS['seed-gqa-f32'], vocabSize: 331, seed: 21 };

/** Runs bin/tpserve.js (TPSERVE_BIN overrides it, e.g. a compiled main.js elsewhere). */
function tpserve(args: string[]) {
  const bin = process.env.TPSERVE_BIN ?? path.join(REPO, 'bin/tpserve.js');
  const device = ['--device', testDevice(), '--threads', '2'];
  return run(process.execPath, [bin, ...args, ...device], { cwd: REPO, maxBuffer: 64 << 20, timeout: 90_000 });
}

/** Accepts a row, a list of rows, or an object with `logits` holding either. */
function parseLogits(stdout: string): number[][] {
  const value = JSON.parse(stdout) as unknown;
  const logits = Array.isArray(value) ? value : (value as { logits?: unknown }).logits;
  if (!Array.isArray(logits) || logits.length === 0) throw new Error(`tpserve logits printed no logits: ${stdout.slice(0, 200)}`);
  return typeof logits[0] === 'number' ? [logits as number[]] : (logits as number[][]);
}

describe('tpserve logits (CLI)', () => {
  let dir = '';
  let checkpoint: RandomCheckpoint;
  let expected: Float64Array[];

  beforeAll(() => {
    dir = makeTempDir('cli');
    checkpoint = writeRandomCheckpoint(dir, SPEC);
    expected = referenceLogits(checkpoint.config, checkpoint.weights, TOKENS);
  });
  afterAll(() => removeDir(dir));

  it('prints the last position’s logits', async () => {
    const { stdout } = await tpserve(['logits', '--model', dir, '--tokens', TOKENS.join(',')]);
    const rows = parseLogits(stdout);
    expect(rows.length).toBe(1);
    expectLogitsClose(rows, expected.slice(-1), 1e-3, 'tpserve logits');
  });

  it('prints every position’s logits with --all', async () => {
    const { stdout } = await tpserve(['logits', '--model', dir, '--tokens', TOKENS.join(','), '--all']);
    const rows = parseLogits(stdout);
    expect(rows.length).toBe(TOKENS.length);
    expectLogitsClose(rows, expected, 1e-3, 'tpserve logits --all');
  });

  it('fails with a message, not a crash, for a token outside the vocab', async () => {
    const failure = await tpserve(['logits', '--model', dir, '--tokens', `5,${SPEC.vocabSize}`]).then(
      () => undefined,
      (err: { code?: number; signal?: string; stderr?: string }) => err,
    );
    expect(failure, 'the command should fail').toBeDefined();
    expect(failure?.signal ?? null).toBeNull();
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/token/i);
  });

  it('prints one clear error naming the file for a truncated shard, and exits 1', async () => {
    const broken = makeTempDir('cli-broken');
    try {
      for (const f of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, f), path.join(broken, f));
      const shard = fs.readdirSync(broken).find((f) => f.endsWith('.safetensors'));
      if (!shard) throw new Error('no safetensors written');
      const bytes = fs.readFileSync(path.join(broken, shard));
      fs.writeFileSync(path.join(broken, shard), bytes.subarray(0, Math.floor(bytes.length * 0.7)));
      const failure = await tpserve(['logits', '--model', broken, '--tokens', '5,17']).then(
        () => undefined,
        (err: { code?: number; signal?: string; stderr?: string }) => err,
      );
      expect(failure, 'the command should fail').toBeDefined();
      expect(failure?.signal ?? null).toBeNull();
      expect(failure?.code).toBe(1);
      const lines = (failure?.stderr ?? '').trim().split('\n');
      expect(lines.length).toBe(1);
      expect(lines[0]).toMatch(/^tpserve: /);
      expect(lines[0]).toContain(shard);
    } finally {
      removeDir(broken);
    }
  });
});
