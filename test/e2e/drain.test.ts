// End to end: SIGTERM drains. Four long streams are under way when the server gets SIGTERM:
// /ready turns 503 and a new request gets 503 shutting_down at once, yet all four streams
// finish with finish_reason "length" and every token; then the workers stop and the process
// exits 0 with no worker left. A second server with a short --drain-timeout-ms ends what is
// left with a clear error instead.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../libs/tiny-model/src/make-tiny-model';
import { isAlive, streamCompletion, type StreamResult } from '../helpers/completion-stream';
import { postRaw, startServer, type ServerProcess } from '../helpers/server-process';
import { childPids } from '../helpers/worker-pids';

const MODEL = 'tiny-drain';
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-e2e-drain-'));
  makeTinyModel({ outDir: path.join(dir, MODEL) });
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function exitCode(server: ServerProcess): Promise<number | null> {
  if (server.child.exitCode !== null) return Promise.resolve(server.child.exitCode);
  return new Promise((resolve) => server.child.once('exit', (code) => resolve(code)));
}

/** Starts 4 streams of `maxTokens`; sends SIGTERM once each has `after` chunks; returns the results and what the server said meanwhile. */
async function sigtermDuring(server: ServerProcess, maxTokens: number, after: number) {
  const seen = [0, 0, 0, 0];
  let signalled: Promise<{ ready: number; refused: Awaited<ReturnType<typeof postRaw>> }> | undefined;
  const results: StreamResult[] = await Promise.all(
    seen.map((_, i) =>
      streamCompletion(server.baseUrl, { model: MODEL, prompt: `drain ${i}`, max_tokens: maxTokens }, (n) => {
        seen[i] = n;
        if (signalled === undefined && seen.every((s) => s >= after)) {
          server.child.kill('SIGTERM');
          signalled = (async () => {
            await new Promise((r) => setTimeout(r, 100));
            const ready = (await fetch(`${server.baseUrl}/ready`)).status;
            const refused = await postRaw(server.baseUrl, '/v1/completions', JSON.stringify({ model: MODEL, prompt: 'late', max_tokens: 2 }));
            return { ready, refused };
          })();
        }
      }),
    ),
  );
  expect(signalled).toBeDefined();
  return { results, during: await signalled! };
}

describe('SIGTERM', () => {
  it('refuses new work, lets the running streams finish, then exits 0', async () => {
    const server = await startServer(path.join(dir, MODEL), ['--tp', '2', '--threads', '1']);
    const workers = childPids(server.child.pid!);
    const { results, during } = await sigtermDuring(server, 1000, 10);
    expect(during.ready).toBe(503);
    expect(during.refused.status).toBe(503);
    expect((during.refused.json as { error: { code: string } }).error.code).toBe('shutting_down');
    for (const r of results) {
      expect(r.error).toBeUndefined();
      expect(r.finishReason).toBe('length');
      expect(r.numCompletionTokens).toBe(1000);
    }
    expect(await exitCode(server)).toBe(0);
    expect(workers.filter(isAlive)).toEqual([]);
    expect(server.stderr()).toMatch(/drained: every request finished/);
  });

  it('ends what the drain timeout leaves with shutting_down, then exits 0', async () => {
    const server = await startServer(path.join(dir, MODEL), ['--tp', '2', '--threads', '1', '--drain-timeout-ms', '300']);
    const workers = childPids(server.child.pid!);
    const { results } = await sigtermDuring(server, 3000, 5);
    for (const r of results) expect(r.error?.code).toBe('shutting_down');
    expect(await exitCode(server)).toBe(0);
    expect(workers.filter(isAlive)).toEqual([]);
    expect(server.stderr()).toMatch(/drain timeout: 4 request\(s\) end with shutting_down/);
  });
});
