// End to end: the restart budget. With --restart-budget 1/600 the first SIGKILL of a rank is
// recovered (the stream finishes); the second exhausts the budget: the in-flight stream ends
// with a 503 worker_failure error event, new requests get 503 in OpenAI's shape, /ready and
// /health both answer 503 with the reason (so the orchestrator replaces the pod),
// tpserve_worker_up drops, the log names the rank, and no worker process is left.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../libs/tiny-model/src/make-tiny-model';
import { isAlive, streamCompletion } from '../helpers/completion-stream';
import { parseMetrics, postRaw, startServer, type ServerProcess } from '../helpers/server-process';
import { childPids, waitForChildren } from '../helpers/worker-pids';

const MODEL = 'tiny-failure';
let dir: string;
let server: ServerProcess;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-e2e-failure-'));
  makeTinyModel({ outDir: path.join(dir, MODEL) });
  server = await startServer(path.join(dir, MODEL), ['--tp', '2', '--threads', '1', '--restart-budget', '1/600']);
});

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const body = { model: MODEL, prompt: 'hi there', max_tokens: 400 };

describe('restart budget', () => {
  it('recovers within the budget, then fails for good with /health 503', async () => {
    const first = childPids(server.child.pid!);
    expect(first).toHaveLength(2);
    let killed = false;
    const ok = await streamCompletion(server.baseUrl, body, (n) => {
      if (n === 10 && !killed) process.kill(first[1], (killed = true) && 'SIGKILL');
    });
    expect(ok.error).toBeUndefined();
    expect(ok.finishReason).toBe('length');

    const second = await waitForChildren(server.child.pid!, 2, first);
    expect(second).toHaveLength(2);
    killed = false;
    const failed = await streamCompletion(server.baseUrl, body, (n) => {
      if (n === 10 && !killed) process.kill(second[0], (killed = true) && 'SIGKILL');
    });
    expect(failed.error?.code).toBe('worker_failure');
    expect(failed.error?.message).toMatch(/restart budget allows \(1 restarts in 600 s\).*worker rank 0/);

    const again = await postRaw(server.baseUrl, '/v1/completions', JSON.stringify({ model: MODEL, prompt: 'hi', max_tokens: 2 }));
    expect(again.status).toBe(503);
    expect((again.json as { error: { type: string; code: string } }).error).toMatchObject({ type: 'service_unavailable_error', code: 'worker_failure' });
    const ready = await fetch(`${server.baseUrl}/ready`);
    expect(ready.status).toBe(503);
    const health = await fetch(`${server.baseUrl}/health`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { reason: string }).reason).toMatch(/restart budget/);
    const metrics = parseMetrics(await (await fetch(`${server.baseUrl}/metrics`)).text());
    expect(metrics.get('tpserve_worker_up{rank="0"}')).toBe(0);
    expect(metrics.get('tpserve_worker_restarts_total{cause="exit"}')).toBe(1);
    expect(server.stderr()).toMatch(/worker fault: worker rank 0 \(pid \d+\), cause exit/);
    expect(server.stderr()).toMatch(/giving up/);
    expect(await waitForChildren(server.child.pid!, 0)).toEqual([]);
    expect([...first, ...second].filter(isAlive)).toEqual([]);
  });
});
