// End to end, real processes (tp 2 CPU ranks, random tiny model): a rank killed with SIGKILL or
// frozen with SIGSTOP mid-stream is fenced and replaced, every stream (greedy and seeded) ends
// with finish_reason "length" and the same text as a fault-free run, /ready is 200 again, the
// restart and resume metrics count it, and no old worker process is left. The server runs
// --batch-invariant: a resumed request recomputes its tokens in one prefill, and only then are
// its logits the same bits as those of its undisturbed decode (without it, the GEMM and GEMV
// kernels differ in the last bit, and a rare near-tie picks another token).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../libs/tiny-model/src/make-tiny-model';
import { isAlive, streamCompletion, type CompletionBody, type StreamResult } from '../helpers/completion-stream';
import { parseMetrics, startServer, type ServerProcess } from '../helpers/server-process';
import { childPids, waitForChildren } from '../helpers/worker-pids';

const MODEL = 'tiny-recovery';
const NUM_TOKENS = 200;
let dir: string;
let server: ServerProcess;
let baseline: StreamResult[];

/** 8 requests: greedy and seeded sampling, different prompts. */
const BODIES: CompletionBody[] = Array.from({ length: 8 }, (_, i) => ({
  model: MODEL,
  prompt: `stream ${i}: the quick brown fox`,
  max_tokens: NUM_TOKENS,
  ...(i % 2 === 0 ? { temperature: 0 } : { temperature: 0.9, seed: 1000 + i }),
}));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-e2e-recovery-'));
  makeTinyModel({ outDir: path.join(dir, MODEL) });
  server = await startServer(path.join(dir, MODEL), ['--tp', '2', '--threads', '1', '--step-timeout-ms', '3000', '--restart-budget', '10/600', '--batch-invariant']);
  baseline = await Promise.all(BODIES.map((b) => streamCompletion(server.baseUrl, b)));
});

afterAll(async () => {
  const pids = server ? childPids(server.child.pid!) : [];
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGCONT');
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the 8 streams; `fault` runs once every stream has seen `after` chunks. */
async function runWithFault(after: number, fault: () => void): Promise<StreamResult[]> {
  const seen = BODIES.map(() => 0);
  let isDone = false;
  const onChunk = (i: number) => (n: number) => {
    seen[i] = n;
    if (!isDone && seen.every((s) => s >= after)) {
      isDone = true;
      fault();
    }
  };
  const results = await Promise.all(BODIES.map((b, i) => streamCompletion(server.baseUrl, b, onChunk(i))));
  expect(isDone).toBe(true);
  return results;
}

function expectSameAsBaseline(results: StreamResult[]): void {
  results.forEach((r, i) => {
    expect(r.error).toBeUndefined();
    expect(r.finishReason).toBe('length');
    expect(r.numCompletionTokens).toBe(NUM_TOKENS);
    expect(r.text).toBe(baseline[i].text);
  });
}

async function metric(name: string): Promise<number> {
  const m = parseMetrics(await (await fetch(`${server.baseUrl}/metrics`)).text());
  return m.get(name) ?? 0;
}

describe('recovery from a worker fault', () => {
  it('the fault-free run is deterministic', () => {
    expect(server.stderr()).toMatch(/rank 1: loaded in [\d.]+ s on cpu \(.*batch-invariant\)/); // the flag reached the workers
    baseline.forEach((r) => {
      expect(r.finishReason).toBe('length');
      expect(r.numCompletionTokens).toBe(NUM_TOKENS);
    });
  });

  it('SIGKILL of one rank under 8 streams: every stream finishes with the fault-free text', async () => {
    const old = childPids(server.child.pid!);
    expect(old).toHaveLength(2);
    const resumedBefore = await metric('tpserve_requests_resumed_total');
    const results = await runWithFault(20, () => process.kill(old[1], 'SIGKILL'));
    expectSameAsBaseline(results);
    expect((await fetch(`${server.baseUrl}/ready`)).status).toBe(200);
    const now = await waitForChildren(server.child.pid!, 2);
    expect(now.filter((p) => old.includes(p))).toEqual([]);
    expect(old.filter(isAlive)).toEqual([]);
    expect(await metric('tpserve_worker_restarts_total{cause="exit"}')).toBe(1);
    expect(await metric('tpserve_requests_resumed_total')).toBeGreaterThan(resumedBefore);
    expect(await metric('tpserve_recovery_duration_seconds_count')).toBe(1);
    expect(await metric('tpserve_num_requests_running')).toBe(0);
    expect(server.stderr()).toMatch(/worker fault: worker rank 1 \(pid \d+\), cause exit/);
    expect(server.stdout()).toMatch(/recovered in [\d.]+ s: \d+ running request/);
  });

  it('SIGSTOP of one rank: detected by the step deadline, replaced, every stream finishes', async () => {
    const old = childPids(server.child.pid!);
    const stoppedAt: number[] = [];
    const results = await runWithFault(20, () => {
      process.kill(old[0], 'SIGSTOP');
      stoppedAt.push(Date.now());
    });
    expectSameAsBaseline(results);
    expect(await metric('tpserve_worker_restarts_total{cause="hang"}')).toBe(1);
    expect(server.stderr()).toMatch(/worker rank 0 .*is stuck/);
    const now = await waitForChildren(server.child.pid!, 2);
    expect(now.filter((p) => old.includes(p))).toEqual([]);
    expect(old.filter(isAlive)).toEqual([]); // the stopped rank was ended by pid, not left frozen
    expect((await fetch(`${server.baseUrl}/ready`)).status).toBe(200);
  });

  it('chaos: random ranks killed several times under 16 streams lose no request', async () => {
    const bodies = [...BODIES, ...BODIES.map((b) => ({ ...b, prompt: `${b.prompt} again` }))];
    const reference = await Promise.all(bodies.map((b) => streamCompletion(server.baseUrl, b)));
    const restartsBefore = await metric('tpserve_worker_restarts_total{cause="exit"}');
    let numKills = 0;
    let chunks = 0;
    const kills: Array<Promise<void>> = [];
    const killer = (): void => {
      // every ~150 chunks (about 10 tokens per stream) kill a random rank, at most 3 times
      if (numKills >= 3 || ++chunks % 150 !== 0) return;
      numKills++;
      kills.push(
        waitForChildren(server.child.pid!, 2).then((pids) => {
          const victim = pids[Math.floor(Math.random() * pids.length)];
          if (victim !== undefined) process.kill(victim, 'SIGKILL');
        }),
      );
    };
    const results = await Promise.all(bodies.map((b) => streamCompletion(server.baseUrl, b, killer)));
    await Promise.all(kills);
    expect(numKills).toBeGreaterThanOrEqual(2);
    results.forEach((r, i) => {
      expect(r.error).toBeUndefined();
      expect(r.finishReason).toBe('length');
      expect(r.text).toBe(reference[i].text);
    });
    expect(await metric('tpserve_worker_restarts_total{cause="exit"}')).toBeGreaterThanOrEqual(restartsBefore + 1);
    expect(await waitForChildren(server.child.pid!, 2)).toHaveLength(2);
  });
});
