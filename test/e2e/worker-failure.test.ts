// End to end: a worker rank dies mid-generation (SIGKILL). The in-flight stream ends with a 503
// error event, new requests get 503 in OpenAI's shape, /ready turns 503 while /health stays 200,
// tpserve_worker_up drops, and the log names the rank.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../libs/tiny-model/src/make-tiny-model';
import { parseMetrics, postRaw, startServer, type ServerProcess } from '../helpers/server-process';

const MODEL = 'tiny-failure';
let dir: string;
let server: ServerProcess;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-e2e-failure-'));
  makeTinyModel({ outDir: path.join(dir, MODEL) });
  server = await startServer(path.join(dir, MODEL), ['--tp', '2', '--threads', '1']);
});

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function workerPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(server.child.pid)]).toString();
  return out.split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
}

describe('worker failure', () => {
  it('fails in-flight and new requests with 503 and turns /ready off', async () => {
    const pids = workerPids();
    expect(pids).toHaveLength(2);
    const res = await fetch(`${server.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3000, ignore_eos: true, stream: true }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read(); // the stream is running
    process.kill(pids[1], 'SIGKILL');
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    const errorEvent = text.split('\n\n').find((e) => e.startsWith('data: {"error"'));
    expect(errorEvent).toBeDefined();
    const error = (JSON.parse(errorEvent!.slice('data: '.length)) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('worker_failure');
    expect(error.message).toMatch(/worker rank/);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);

    const again = await postRaw(server.baseUrl, '/v1/chat/completions', JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }));
    expect(again.status).toBe(503);
    expect((again.json as { error: { type: string } }).error.type).toBe('service_unavailable_error');
    expect((await fetch(`${server.baseUrl}/ready`)).status).toBe(503);
    expect((await fetch(`${server.baseUrl}/health`)).status).toBe(200);
    const metrics = parseMetrics(await (await fetch(`${server.baseUrl}/metrics`)).text());
    expect(metrics.get('tpserve_worker_up{rank="1"}')).toBe(0);
    expect(server.stderr()).toMatch(/worker rank 1 .*failed|worker rank 1 .*exited/);
  });
});
