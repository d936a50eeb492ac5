// Starts the real server as a child process (`node bin/tpserve.js serve ... --port 0`, from the
// tsc build in dist/) with real worker processes, waits for its {"event":"listening"} line and
// hands back an official `openai` client pointed at it. One server per test file (beforeAll).
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const TPSERVE_BIN = path.join(REPO_ROOT, 'bin', 'tpserve.js');

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  client: OpenAI;
  /** Everything the server printed on stderr so far. */
  stderr(): string;
  /** Everything the server printed on stdout so far (Nest's warn and log lines go there). */
  stdout(): string;
  stop(): Promise<void>;
}

export function startServer(modelDir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, startTimeoutMs = 60_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [TPSERVE_BIN, 'serve', '--model', modelDir, '--port', '0', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const errText: string[] = [];
  child.stderr!.on('data', (d: Buffer) => errText.push(d.toString()));
  const outText: string[] = [];
  child.stdout!.on('data', (d: Buffer) => outText.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not start within ${startTimeoutMs} ms:\n${errText.join('')}`));
    }, startTimeoutMs);
    let isListening = false;
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!isListening) reject(new Error(`the server exited with code ${code} before listening:\n${errText.join('')}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let msg: { event?: string; port?: number };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return;
      }
      if (msg.event !== 'listening' || typeof msg.port !== 'number') return;
      clearTimeout(timer);
      isListening = true;
      const baseUrl = `http://127.0.0.1:${msg.port}`;
      resolve({
        child,
        port: msg.port,
        baseUrl,
        client: new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 120_000 }),
        stderr: () => errText.join(''),
        stdout: () => outText.join(''),
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const timeout = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timeout);
        },
      });
    });
  });
}

/** Runs `tpserve <args>` to completion; returns its exit code and output. */
export function runCli(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [TPSERVE_BIN, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.stdin.end(options.input ?? '');
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** POSTs a raw body (for malformed / oversized inputs the client library would not send). */
export async function postRaw(baseUrl: string, route: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: unknown }> {
  const res = await fetch(`${baseUrl}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}

/** Parses Prometheus text into name{labels} -> value (only sample lines). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
