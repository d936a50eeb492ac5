// Ranks on several "hosts": one `tpserve worker` in each of four network namespaces (made and
// removed here; root + iproute2), the coordinator in the root namespace, Gloo collectives over
// TCP between the namespaces (no shared memory, no shared loopback). Checks: `tpserve logits
// --workers` at tp 2 and 4 equals tp 1 and the float64 reference; `tpserve serve --workers` over
// mutual TLS serves chat completions whose greedy text equals the single-process run, streamed
// and not; a worker's namespace host killed mid-stream is recovered like a dead rank (the
// stream pauses, a new worker at the same address is rejoined, the text is unchanged).
// Skips with the reason where namespaces cannot be made. Needs `npm run build`.
//   npx vitest run test/multihost/netns-cluster.test.ts
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../libs/tiny-model/src/make-tiny-model';
import { expectLogitsClose } from '../helpers/logits-compare';
import { NetnsHosts, type HostWorker } from '../../apps/cli/src/bench/netns-hosts';
import { makeTempDir, removeDir, writeRandomCheckpoint, type RandomCheckpoint } from '../helpers/random-checkpoint';
import { parseMetrics, startServer, TPSERVE_BIN, REPO_ROOT, type ServerProcess } from '../helpers/server-process';
import { makeTestCerts, type TestCerts } from '../helpers/test-certs';
import { TP_SPECS } from '../helpers/tp-cluster';
import { referenceLogits } from '../reference/reference-model';

const run = promisify(execFile);
const TOKENS = [5, 17, 300, 999, 42, 0, 1000];
const made = NetnsHosts.create(4);
const skipReason = typeof made === 'string' ? made : undefined;
if (skipReason) process.stderr.write(`netns-cluster.test.ts: skipped: ${skipReason}\n`);
const net = typeof made === 'string' ? undefined : made;

async function tpserve(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [TPSERVE_BIN, ...args, '--threads', '1'], { cwd: REPO_ROOT, maxBuffer: 64 << 20, timeout: 120_000 });
  return stdout;
}

afterAll(() => net?.removeAll());

describe.skipIf(skipReason !== undefined)('tpserve logits --workers on network-namespace hosts (Gloo, plaintext by flag)', () => {
  let checkpoint: RandomCheckpoint;
  let dir = '';
  const workers: HostWorker[] = [];
  beforeAll(async () => {
    dir = makeTempDir('netns-logits');
    checkpoint = writeRandomCheckpoint(dir, TP_SPECS['seed-all-bias-f32']);
    for (let i = 0; i < 4; i++) workers.push(await net!.startWorker(i, TPSERVE_BIN, ['--device', 'cpu', '--insecure'], { port: 50051 }));
  });
  afterAll(() => removeDir(dir));

  it('refuses plaintext to remote ranks without --worker-insecure, naming them', async () => {
    const err = await tpserve(['logits', '--model', dir, '--tokens', '1,2', '--workers', `${workers[0].address},${workers[1].address}`]).catch((e: { stderr: string }) => e.stderr);
    expect(err).toContain(`worker rank(s) at ${workers[0].address}, ${workers[1].address} are not on loopback`);
  });

  it('prints at tp 2 and tp 4 the logits of tp 1 and of the float64 reference', async () => {
    const args = ['logits', '--model', dir, '--tokens', TOKENS.join(','), '--all'];
    const tp1 = JSON.parse(await tpserve(args)) as number[][];
    const reference = referenceLogits(checkpoint.config, checkpoint.weights, TOKENS);
    for (const tp of [2, 4]) {
      const list = workers.slice(0, tp).map((w) => w.address).join(',');
      const rows = JSON.parse(await tpserve([...args, '--workers', list, '--worker-insecure'])) as number[][];
      expectLogitsClose(rows, tp1, 1e-5, `--workers x${tp} vs tp 1`);
      expectLogitsClose(rows, reference, 1e-3, `--workers x${tp} vs the float64 reference`);
    }
    // the ranks met over Gloo (different network namespaces), and stayed up for the next group
    for (const w of workers) expect(w.stderr()).toMatch(/joining the gloo group gloo-tcp:\/\//);
    for (const w of workers) expect(w.child.exitCode).toBeNull();
  });
});

describe.skipIf(skipReason !== undefined)('tpserve serve --workers on network-namespace hosts (Gloo, mutual TLS)', () => {
  let dir = '';
  let certs: TestCerts | undefined;
  let single: ServerProcess;
  let remote: ServerProcess;
  // the survivor's all-reduce with the vanished peer gives up after 5 s (TPSERVE_GLOO_TIMEOUT_MS)
  const workerArgs = (): string[] => ['--device', 'cpu', '--tls-cert', certs!.serverCert, '--tls-key', certs!.serverKey, '--tls-ca', certs!.ca];
  const TLS_WORKER = { port: 50052, env: { TPSERVE_GLOO_TIMEOUT_MS: '5000' } };
  const chat = { messages: [{ role: 'user' as const, content: 'Tell me about Paris.' }], temperature: 0, max_tokens: 48, ignore_eos: true };

  beforeAll(async () => {
    dir = makeTempDir('netns-serve');
    makeTinyModel({ outDir: path.join(dir, 'tiny'), dtype: 'f32', seed: 3 });
    certs = makeTestCerts(path.join(dir, 'certs'), net!.hosts.map((h) => h.ip));
    if (!certs) throw new Error('openssl is needed for the mutual-TLS test');
    const w0 = await net!.startWorker(0, TPSERVE_BIN, workerArgs(), TLS_WORKER);
    const w1 = await net!.startWorker(1, TPSERVE_BIN, workerArgs(), TLS_WORKER);
    const tlsArgs = ['--worker-tls-cert', certs.clientCert, '--worker-tls-key', certs.clientKey, '--worker-tls-ca', certs.ca];
    [single, remote] = await Promise.all([
      startServer(path.join(dir, 'tiny'), ['--tp', '1', '--threads', '1']),
      // a vanished host answers nothing: the step deadline and Health find it (kept short here)
      startServer(path.join(dir, 'tiny'), ['--workers', `${w0.address},${w1.address}`, '--threads', '1', '--step-timeout-ms', '15000', ...tlsArgs], {}, 120_000),
    ]);
  });
  afterAll(async () => {
    await Promise.all([single?.stop(), remote?.stop()]);
    removeDir(dir);
  });

  it('serves the greedy text of the single-process run, streamed and not', async () => {
    const model = 'tiny';
    const want = await single.client.chat.completions.create({ model, ...chat } as never) as { choices: Array<{ message: { content: string } }> };
    const got = await remote.client.chat.completions.create({ model, ...chat } as never) as typeof want;
    expect(want.choices[0].message.content.length).toBeGreaterThan(0);
    expect(got.choices[0].message.content).toBe(want.choices[0].message.content);
    const stream = await remote.client.chat.completions.create({ model, ...chat, stream: true } as never) as unknown as AsyncIterable<{ choices: Array<{ delta: { content?: string } }> }>;
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(want.choices[0].message.content);
    expect(remote.stderr()).not.toMatch(/worker fault/);
  });

  it('recovers when a worker host vanishes mid-stream: a new worker at the same address rejoins, the text is unchanged', { timeout: 300_000 }, async () => {
    const model = 'tiny';
    const long = { ...chat, max_tokens: 160 };
    const want = await single.client.chat.completions.create({ model, ...long } as never) as { choices: Array<{ message: { content: string } }> };
    const stream = await remote.client.chat.completions.create({ model, ...long, stream: true } as never) as unknown as AsyncIterable<{ choices: Array<{ delta: { content?: string } }> }>;
    let text = '';
    let numChunks = 0;
    let restarted: Promise<HostWorker> | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (++numChunks === 8) {
        net!.removeHost(1);  // the host vanishes: its processes die, its interface goes
        net!.addHost(1);     // and comes back (a rescheduled pod at the same address)
        restarted = net!.startWorker(1, TPSERVE_BIN, workerArgs(), TLS_WORKER);
      }
    }
    await restarted;
    expect(numChunks).toBeGreaterThan(8);
    expect(text).toBe(want.choices[0].message.content);
    expect(remote.stderr()).toMatch(/worker fault: worker rank 1/);
    const metrics = parseMetrics(await (await fetch(`${remote.baseUrl}/metrics`)).text());
    const restarts = [...metrics].filter(([k]) => k.startsWith('tpserve_worker_restarts_total')).reduce((sum, [, v]) => sum + v, 0);
    expect(restarts).toBeGreaterThanOrEqual(1);
  });
});
