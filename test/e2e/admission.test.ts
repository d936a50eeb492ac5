// End to end: admission counts capacity, not timing. With 16 running slots and --max-waiting 8,
// a burst of 24 requests arriving before the scheduler's next step is admitted whole (it fits
// slots + queue); a burst well beyond that gets 429 with Retry-After for the excess only; the
// running/waiting gauges read 0 once all is done.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../libs/tiny-model/src/make-tiny-model';
import { parseMetrics, postRaw, startServer, type ServerProcess } from '../helpers/server-process';

const MODEL = 'tiny-admission';
let dir: string;
let server: ServerProcess;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-e2e-admission-'));
  makeTinyModel({ outDir: path.join(dir, MODEL) });
  server = await startServer(path.join(dir, MODEL), ['--tp', '2', '--threads', '1', '--max-num-seqs', '16', '--max-waiting', '8']);
});

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const burst = (n: number, maxTokens: number) =>
  Promise.all(Array.from({ length: n }, (_, i) => postRaw(server.baseUrl, '/v1/completions', JSON.stringify({ model: MODEL, prompt: `burst ${i}`, max_tokens: maxTokens, ignore_eos: true }))));

describe('admission', () => {
  it('admits a burst that fits the running slots plus the waiting bound', async () => {
    const results = await burst(24, 16);
    expect(results.map((r) => r.status)).toEqual(Array(24).fill(200));
  });

  it('refuses only beyond that, with 429 and Retry-After', async () => {
    const results = await burst(60, 300);
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    expect(ok.length + refused.length).toBe(60);
    expect(ok.length).toBeGreaterThanOrEqual(24);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0].headers.get('retry-after')).toBe('1');
    const metrics = parseMetrics(await (await fetch(`${server.baseUrl}/metrics`)).text());
    expect(metrics.get('tpserve_num_requests_running')).toBe(0);
    expect(metrics.get('tpserve_num_requests_waiting')).toBe(0);
  });
});
