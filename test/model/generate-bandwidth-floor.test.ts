// `tpserve generate --bandwidth-floor`: after decoding it prints the decode speed as a percentage
// of the floor, with the engine's own bytes per token, and the figures in the line agree with each
// other (floor = bytes / bandwidth; percentage = floor / measured). Off the CPU or at --tp > 1 it is
// refused with a message naming what it needs. Run: npx vitest run test/model/generate-bandwidth-floor.test.ts
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../libs/tiny-model/src/make-tiny-model';
import { makeTempDir, removeDir } from '../helpers/random-checkpoint';

const run = promisify(execFile);
const BIN = path.resolve(__dirname, '../../bin/tpserve.js');

describe('tpserve generate --bandwidth-floor', () => {
  let dir = '';
  beforeAll(() => {
    dir = makeTempDir('generate-floor');
    makeTinyModel({ outDir: dir, dtype: 'f32', seed: 5 });
  });
  afterAll(() => removeDir(dir));
  const args = () => ['generate', '--model', dir, '--prompt', 'hello', '--max-tokens', '12', '--temperature', '0', '--ignore-eos', '--threads', '1'];

  it('prints the percentage of the floor from the engine bytes and a measured bandwidth', async () => {
    const { stderr } = await run(process.execPath, [BIN, ...args(), '--bandwidth-floor'], { timeout: 60_000 });
    const m = /decode at ([\d.]+) % of the bandwidth floor: ([\d.]+) MB per token at ([\d.]+) GB\/s read with 1 threads \(floor ([\d.]+) ms, measured ([\d.]+) ms\)/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    const [pct, mb, gbps, floor, measured] = m!.slice(1).map(Number);
    expect(gbps).toBeGreaterThan(0.5);
    expect(mb).toBeGreaterThan(0);
    expect(floor).toBeCloseTo(mb / gbps, 1); // MB / (GB/s) = ms
    expect(pct).toBeCloseTo((Number(m![4]) / measured) * 100, -1);
    expect(floor).toBeLessThan(measured * 2); // a floor far above the measured time would be a wrong byte count
  });

  it('is refused at --tp 2 and on cuda, naming what it needs', async () => {
    for (const extra of [['--tp', '2'], ['--device', 'cuda']]) {
      const err = await run(process.execPath, [BIN, ...args(), '--bandwidth-floor', ...extra], { timeout: 60_000 }).catch((e: { stderr: string; code: number }) => e);
      expect((err as { code: number }).code).not.toBe(0);
      expect((err as { stderr: string }).stderr).toMatch(/--bandwidth-floor .* needs --device cpu and --tp 1/);
    }
  });
});
