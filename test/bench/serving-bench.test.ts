// `tpserve bench` end to end: a real server (`tpserve serve --tp 1`, one CPU worker process) on a
// random tiny model, loaded by the CLI as a child process; checks the JSON result is sane (every
// request succeeded, TTFT > 0, output tokens counted from usage) for the chat endpoint with a
// concurrency cap and the engine comparison, and for completions with Poisson arrivals.
// Percentiles and summaries are unit-tested in apps/cli/src/bench/serving-stats.spec.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../libs/tiny-model/src/make-tiny-model';
import type { ServingBenchResult } from '../../apps/cli/src/bench/serving-report';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process';

const MODEL = 'bench-tiny';
let dir: string;
let modelDir: string;
let server: ServerProcess;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-bench-'));
  modelDir = path.join(dir, MODEL);
  makeTinyModel({ outDir: modelDir });
  server = await startServer(modelDir, ['--tp', '1', '--threads', '1']);
});

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function bench(args: string[]): Promise<{ result: ServingBenchResult; stdout: string; stderr: string; file: string }> {
  const file = path.join(dir, `result-${Date.now()}.json`);
  const { code, stdout, stderr } = await runCli(['bench', '--base-url', server.baseUrl, '--result-file', file, ...args], { timeoutMs: 100_000 });
  expect(code, stderr).toBe(0);
  return { result: JSON.parse(stdout) as ServingBenchResult, stdout, stderr, file };
}

function expectSaneRun(result: ServingBenchResult, numPrompts: number, outputLen: number): void {
  const s = result.summary;
  expect(result.errors).toEqual([]);
  expect(s.numCompleted).toBe(numPrompts);
  expect(s.numFailed).toBe(0);
  // ignore_eos: exactly max_tokens each, counted from usage
  expect(s.totalOutputTokens).toBe(numPrompts * outputLen);
  expect(result.requests).toHaveLength(numPrompts);
  for (const r of result.requests) {
    expect(r.outputTokens).toBe(outputLen);
    expect(r.inputTokens).toBeGreaterThan(0);
    expect(r.ttftMs).toBeGreaterThan(0);
    expect(r.e2eMs).toBeGreaterThanOrEqual(r.ttftMs);
    expect(r.itlMs.every((x) => x >= 0)).toBe(true);
    expect(r.itlMs.length).toBe(Math.max(0, r.numChunks - 1));
  }
  expect(s.ttftMs.mean).toBeGreaterThan(0);
  expect(s.ttftMs.median).toBeLessThanOrEqual(s.ttftMs.p99);
  expect(s.e2eMs.mean).toBeGreaterThan(s.ttftMs.mean);
  expect(s.tpotMs.mean).toBeGreaterThan(0);
  expect(s.durationS).toBeGreaterThan(0);
  expect(Math.abs(s.outputTokensPerS * s.durationS - s.totalOutputTokens) / s.totalOutputTokens).toBeLessThan(0.02);
  expect(s.requestsPerS).toBeGreaterThan(0);
}

describe('tpserve bench', () => {
  it('chat, concurrency 3: sane numbers, the model from /v1/models, server steps, and the engine comparison', async () => {
    const { result, stdout, stderr, file } = await bench([
      '--num-prompts', '6', '--max-concurrency', '3', '--input-len', '48', '--output-len', '8', '--compare-engine', modelDir,
    ]);
    expectSaneRun(result, 6, 8);
    expect(fs.readFileSync(file, 'utf8')).toBe(stdout);
    expect(result.config).toMatchObject({ endpoint: 'chat', model: MODEL, numPrompts: 6, maxConcurrency: 3, requestRate: 'inf' });
    // prompts are sized on the server's own token counts: within 25% of --input-len
    const meanInput = result.summary.totalInputTokens / 6;
    expect(meanInput).toBeGreaterThan(36);
    expect(meanInput).toBeLessThan(60);
    expect(result.server!.numSteps).toBeGreaterThanOrEqual(8);
    expect(result.server!.stepBusyFraction).toBeGreaterThan(0);
    expect(result.engineBaseline).toMatchObject({ executor: 'in-process', tp: 1, batch: 3, outputLen: 8, numWaves: 2 });
    expect(result.engineBaseline!.outputTokensPerS).toBeGreaterThan(0);
    expect(result.servingOverhead).toBeGreaterThan(0);
    expect(stderr).toMatch(/Serving Benchmark Result[\s\S]*Mean TTFT \(ms\)[\s\S]*P99 ITL \(ms\)[\s\S]*Serving overhead/);
  });

  it('completions with Poisson arrivals and no concurrency cap', async () => {
    const { result } = await bench(['--endpoint', 'completions', '--num-prompts', '5', '--request-rate', '20', '--input-len', '16', '--output-len', '4', '--seed', '3']);
    expectSaneRun(result, 5, 4);
    expect(result.config).toMatchObject({ endpoint: 'completions', requestRate: 20, maxConcurrency: null });
  });

  it('fails with a clear message for a model the server does not serve', async () => {
    const { code, stderr } = await runCli(['bench', '--base-url', server.baseUrl, '--model', 'nope', '--num-prompts', '1']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/HTTP 404/);
  });
});
