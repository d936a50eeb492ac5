#!/usr/bin/env node
// Fault drill (issue 8's "Must show"), printing one JSON object: `tpserve serve --tp 2` on the
// tiny model; 8 greedy streams of --tokens tokens without a fault, then the same 8 with a
// `kill -9` of worker rank 1 mid-stream: are the texts equal, how long until /ready is 200
// again, is any old worker process left? Then SIGTERM in the middle of 4 long streams: do all
// finish with "length", does the server exit 0?
//   node scripts/build.mjs && node scripts/fault-drill.mjs [--tokens 2000] [--model DIR] [--no-batch-invariant]
// The server runs --batch-invariant unless told not to: only then is a resumed request's text the
// undisturbed one bit for bit (see docs/reliability.md).
// (short check: --tokens 200). Needs the build (dist/, the addon).
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const bin = path.join(root, 'bin', 'tpserve.js');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const numTokens = Number(arg('--tokens', '2000'));
const batchInvariant = !process.argv.includes('--no-batch-invariant');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-fault-drill-'));
let model = arg('--model');
if (!model) {
  model = path.join(tmp, 'tiny');
  execFileSync(process.execPath, [bin, 'make-tiny-model', '--out', model], { stdio: 'ignore' });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const children = (pid) => {
  try { return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)]).toString().split('\n').map(Number).filter((n) => n > 0); } catch { return []; }
};

function serve() {
  const child = spawn(process.execPath, [bin, 'serve', '--model', model, '--tp', '2', '--port', '0', ...(batchInvariant ? ['--batch-invariant'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.resume();
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const msg = JSON.parse(line);
        if (msg.event === 'listening') resolve({ child, url: `http://127.0.0.1:${msg.port}` });
      } catch { /* a log line */ }
    });
  });
}

async function stream(url, prompt, onChunk) {
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: path.basename(model), prompt, max_tokens: numTokens, temperature: 0, ignore_eos: true, stream: true }),
  });
  let text = '', finish = null, error = null, buf = '', n = 0;
  for await (const bytes of res.body) {
    buf += Buffer.from(bytes).toString('utf8');
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, end); buf = buf.slice(end + 2);
      if (!ev.startsWith('data: {')) continue;
      const d = JSON.parse(ev.slice(6));
      if (d.error) error = d.error.code;
      for (const c of d.choices ?? []) { text += c.text; finish = c.finish_reason ?? finish; }
      onChunk?.(++n);
    }
  }
  return { text, finish, error };
}

const { child, url } = await serve();
const prompts = Array.from({ length: 8 }, (_, i) => `drill ${i}: once upon a time`);
let t0 = performance.now();
const baseline = await Promise.all(prompts.map((p) => stream(url, p)));
const baselineSeconds = (performance.now() - t0) / 1000;
const oldPids = children(child.pid);
let killedAt, readyAgainMs, sawNotReady = false;
const seen = prompts.map(() => 0);
const faulted = await Promise.all(prompts.map((p, i) => stream(url, p, (n) => {
  seen[i] = n;
  if (killedAt === undefined && seen.every((s) => s >= numTokens / 10)) {
    killedAt = performance.now();
    process.kill(oldPids[1], 'SIGKILL');
    void (async () => {
      // /ready turns 503 once the fault is seen, then 200 when the new group serves
      for (let k = 0; k < 2400 && readyAgainMs === undefined; k++) {
        const status = (await fetch(`${url}/ready`)).status;
        if (status === 503) sawNotReady = true;
        else if (sawNotReady) readyAgainMs = performance.now() - killedAt;
        await sleep(25);
      }
    })();
  }
})));
await sleep(200);
const kill = {
  streams: prompts.length,
  tokensPerStream: numTokens,
  baselineSeconds: +baselineSeconds.toFixed(2),
  allFinishedLength: faulted.every((r) => r.finish === 'length'),
  textsEqualNoFault: faulted.every((r, i) => r.text === baseline[i].text),
  lost: faulted.filter((r) => r.error !== null || r.finish !== 'length').length,
  sawReady503: sawNotReady,
  readyAgainSeconds: readyAgainMs === undefined ? null : +(readyAgainMs / 1000).toFixed(2),
  oldWorkersLeft: oldPids.filter(alive).length,
  workersNow: children(child.pid).length,
};
// SIGTERM in the middle of 4 long streams
const workers = children(child.pid);
let signalled = false;
const exit = new Promise((r) => child.once('exit', (code) => r(code)));
const seen4 = [0, 0, 0, 0];
const drained = await Promise.all(seen4.map((_, i) => stream(url, `drain ${i}`, (n) => {
  seen4[i] = n;
  if (!signalled && seen4.every((s) => s >= numTokens / 4)) { signalled = true; child.kill('SIGTERM'); }
})));
const code = await exit;
const drain = {
  streams: 4,
  allFinishedLength: drained.every((r) => r.finish === 'length'),
  exitCode: code,
  workersLeft: workers.filter(alive).length,
};
fs.rmSync(tmp, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ batchInvariant, kill, drain }, null, 2) + '\n');
