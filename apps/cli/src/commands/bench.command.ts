// `tpserve bench`: a load test against a running OpenAI-compatible server, like `vllm bench serve`
// with its random dataset: N streamed requests of about --input-len prompt tokens and
// --output-len generated tokens (ignore_eos), arriving at --request-rate (Poisson) with at most
// --max-concurrency in flight. Prints a progress bar and the summary table on stderr and the
// JSON result on stdout (and in --result-file). --compare-engine DIR also runs the same batch on
// the engine directly and reports servingOverhead = API output tokens/s / engine output tokens/s.
//   tpserve bench --base-url http://127.0.0.1:8000 --num-prompts 64 --max-concurrency 8 \
//     --input-len 128 --output-len 64 --compare-engine /models/m --result-file out.json
import { type Command, InvalidArgumentError, Option } from 'commander';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { parseFloatOption, parseIntOption } from '../options/parse';
import { ProgressBar } from '../progress-bar';
import { countPromptTokens, firstModel, scrapeMetrics, type Endpoint, type ServingTarget } from '../bench/serving-client';
import { EngineBaselineRunner, type BaselineExecutor, type EngineBaseline, type EngineBaselineOptions } from '../bench/serving-engine-baseline';
import { buildPrompts, fitTokens, randomText, seededRandom, wordsFor, type TokenFit } from '../bench/serving-prompts';
import { formatTable, roundSummary, type OverheadRound, type ServingBenchResult } from '../bench/serving-report';
import { runLoad } from '../bench/serving-runner';
import { serverStepStats } from '../bench/serving-server-metrics';
import { summarize, type RequestResult } from '../bench/serving-stats';

interface BenchOptions {
  baseUrl?: string;
  host: string;
  port: number;
  model?: string;
  endpoint: Endpoint;
  numPrompts: number;
  requestRate: number;
  maxConcurrency?: number;
  inputLen: number;
  outputLen: number;
  seed: number;
  rounds: number;
  temperature: number;
  ignoreEos: boolean;
  responseFormat?: Record<string, unknown>;
  timeoutS: number;
  resultFile?: string;
  compareEngine?: string;
  engineTp: number;
  engineThreads: number;
  engineDevice: 'cpu' | 'cuda';
  engineExecutor: BaselineExecutor;
  engineWaves?: number;
}

function parseResponseFormat(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(`--response-format must be JSON, got ${value}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('--response-format must be a JSON object');
  return parsed as Record<string, unknown>;
}

const log = (line: string): void => void process.stderr.write(`tpserve bench: ${line}\n`);

function parseRate(value: string): number {
  if (value === 'inf') return Infinity;
  return parseFloatOption('--request-rate', Number.MIN_VALUE)(value);
}

function cpuPressureAvg60(): number | undefined {
  try {
    const match = /some avg10=[\d.]+ avg60=([\d.]+)/.exec(fs.readFileSync('/proc/pressure/cpu', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Measures the server's tokens per word (and its template's fixed tokens) on two random texts;
 * the longer the second, the closer the average (160 words when 480 do not fit the context).
 */
async function calibrate(target: ServingTarget, seed: number): Promise<TokenFit> {
  const random = seededRandom(seed + 7919);
  const measure = async (words: number): Promise<{ words: number; tokens: number }> =>
    ({ words, tokens: await countPromptTokens(target, randomText(random, words)) });
  const short = await measure(16);
  return fitTokens(short, await measure(480).catch(() => measure(160)));
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

function medianOf(xs: number[]): number {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function engineOptions(o: BenchOptions, modelDir: string, meanInputTokens: number): EngineBaselineOptions {
  const batch = o.maxConcurrency ?? o.numPrompts;
  return {
    modelDir, device: o.engineDevice, tp: o.engineTp, threadsPerRank: o.engineThreads, executor: o.engineExecutor,
    batch, inputLen: meanInputTokens || o.inputLen, outputLen: o.outputLen, numWaves: o.engineWaves ?? Math.ceil(o.numPrompts / batch),
  };
}

async function runBench(o: BenchOptions): Promise<void> {
  const baseUrl = (o.baseUrl ?? `http://${o.host}:${o.port}`).replace(/\/+$/, '').replace(/\/v1$/, '');
  const model = o.model ?? (await firstModel(baseUrl));
  const target: ServingTarget = { baseUrl, endpoint: o.endpoint, model, temperature: o.temperature, ignoreEos: o.ignoreEos, timeoutMs: o.timeoutS * 1000, responseFormat: o.responseFormat };
  const fit = await calibrate(target, o.seed);
  const numWords = wordsFor(fit, o.inputLen);
  log(`${model} at ${baseUrl}: ${fit.tokensPerWord.toFixed(2)} tokens per word + ${fit.fixedTokens.toFixed(0)} fixed; ${numWords} words per prompt`);

  const loadBefore = { avg: os.loadavg()[0], pressure: cpuPressureAvg60() };
  const metricsBefore = await scrapeMetrics(baseUrl);
  const bar = new ProgressBar('requests');
  const total = o.numPrompts * o.rounds;
  bar.update(0, total);
  const results: RequestResult[] = [];
  const overheadRounds: OverheadRound[] = [];
  let durationS = 0;
  let engine: EngineBaselineRunner | undefined;
  let engineBaseline: EngineBaseline | undefined;
  try {
    for (let round = 0; round < o.rounds; round++) {
      // new prompts every round: a repeated prompt would be a prefix-cache hit
      const prompts = buildPrompts(fit, o.inputLen, o.numPrompts, o.seed + round);
      const shape = { requestRate: o.requestRate, maxConcurrency: o.maxConcurrency, seed: o.seed + round };
      const run = await runLoad(target, prompts, o.outputLen, shape, (done) => bar.update(results.length + done, total));
      results.push(...run.results);
      durationS += run.durationS;
      if (o.compareEngine === undefined) continue;
      const api = summarize(run.results, run.durationS);
      engine ??= await EngineBaselineRunner.open(engineOptions(o, o.compareEngine, Math.round(api.totalInputTokens / Math.max(1, api.numCompleted))), log);
      engineBaseline = await engine.measure(log);
      overheadRounds.push({
        apiDurationS: r2(run.durationS), apiOutputTokensPerS: r2(api.outputTokensPerS), engineOutputTokensPerS: engineBaseline.outputTokensPerS,
        engineDecodeStepMs: engineBaseline.decodeStepMs, ratio: Math.round((api.outputTokensPerS / engineBaseline.outputTokensPerS) * 1000) / 1000,
      });
    }
  } finally {
    bar.finish();
    await engine?.close();
  }
  const metricsAfter = await scrapeMetrics(baseUrl);
  const summary = summarize(results, durationS);

  const result: ServingBenchResult = {
    date: new Date().toISOString(),
    config: {
      baseUrl, endpoint: o.endpoint, model, numPrompts: o.numPrompts, requestRate: Number.isFinite(o.requestRate) ? o.requestRate : 'inf',
      maxConcurrency: o.maxConcurrency ?? null, inputLen: o.inputLen, outputLen: o.outputLen, seed: o.seed, rounds: o.rounds,
      temperature: o.temperature, ignoreEos: o.ignoreEos,
    },
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      loadAvg1: { before: loadBefore.avg, after: os.loadavg()[0] },
      cpuPressureAvg60: { before: loadBefore.pressure, after: cpuPressureAvg60() },
    },
    prompt: { ...fit, numWords },
    summary: roundSummary(summary),
    // the server does no steps while the engine baseline runs: only the API rounds' time counts
    server: serverStepStats(metricsBefore, metricsAfter, durationS, summary.totalOutputTokens),
    ...(engineBaseline ? { engineBaseline, servingOverhead: medianOf(overheadRounds.map((r) => r.ratio)), overheadRounds } : {}),
    errors: [...new Set(results.flatMap((r) => (r.error ? [r.error] : [])))].slice(0, 5),
    requests: results.map(({ isSuccess: _s, error: _e, ...r }) => r),
  };

  process.stderr.write(formatTable(result));
  for (const e of result.errors) log(`failed request: ${e}`);
  const json = JSON.stringify(result, null, 2) + '\n';
  if (o.resultFile !== undefined) fs.writeFileSync(o.resultFile, json);
  process.stdout.write(json);
  if (summary.numCompleted === 0) process.exitCode = 1;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('load test against a running server: TTFT, inter-token latency, end-to-end latency percentiles and tokens/s (like vllm bench serve)')
    .option('--base-url <url>', 'server address (default http://HOST:PORT)')
    .option('--host <host>', 'server host', '127.0.0.1')
    .option('--port <port>', 'server port', parseIntOption('--port', 1, 65535), 8000)
    .option('--model <name>', 'model id to request (default: the first of GET /v1/models)')
    .addOption(new Option('--endpoint <endpoint>', 'API to load').choices(['chat', 'completions']).default('chat'))
    .option('--num-prompts <n>', 'requests to send', parseIntOption('--num-prompts', 1, 1_000_000), 100)
    .option('--request-rate <r>', "requests per second, Poisson arrivals ('inf': all at once)", parseRate, Infinity)
    .option('--max-concurrency <n>', 'most requests in flight (default: no limit)', parseIntOption('--max-concurrency', 1, 100_000))
    .option('--input-len <n>', 'prompt tokens per request (about: random words sized on the server)', parseIntOption('--input-len', 1, 1_000_000), 128)
    .option('--output-len <n>', 'max_tokens per request', parseIntOption('--output-len', 1, 1_000_000), 64)
    .option('--seed <n>', 'seed of the prompts and arrivals', parseIntOption('--seed', 0), 0)
    .option('--rounds <n>', 'repeat the run with new prompts; with --compare-engine the engine is measured after each round and the median ratio reported', parseIntOption('--rounds', 1, 1000), 1)
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', parseFloatOption('--temperature', 0, 100), 0)
    .option('--no-ignore-eos', 'let requests stop at an end-of-sequence token (default: ignore_eos, exactly --output-len tokens)')
    .option('--response-format <json>', 'structured output of every request, as OpenAI\'s response_format (e.g. \'{"type":"json_object"}\')', parseResponseFormat)
    .option('--timeout-s <s>', 'per-request timeout', parseIntOption('--timeout-s', 1, 86_400), 600)
    .option('--result-file <file>', 'also write the JSON result here')
    .option('--compare-engine <dir>', 'also run the same batch on the engine directly (this model directory) and report the serving overhead')
    .option('--engine-tp <n>', 'tensor-parallel degree of the engine baseline (as the server)', parseIntOption('--engine-tp', 1, 64), 1)
    .option('--engine-threads <n>', 'CPU threads per rank of the engine baseline (0: split the cores, as the server)', parseIntOption('--engine-threads', 0, 1024), 0)
    .addOption(new Option('--engine-device <device>', 'engine baseline device').choices(['cpu', 'cuda']).default('cpu'))
    .addOption(new Option('--engine-executor <kind>', 'tp 1 baseline: the engine in this process, or one worker process over gRPC as the server runs it').choices(['in-process', 'workers']).default('in-process'))
    .option('--engine-waves <n>', 'engine baseline batches (default: num-prompts / batch)', parseIntOption('--engine-waves', 1, 10_000))
    .action((opts: BenchOptions) => runBench(opts));
}
