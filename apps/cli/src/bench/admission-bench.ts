// Long-prompt admission benchmark (issue 13): does a huge prompt stall the streams already
// running? Against a running tpserve (or any OpenAI-compatible server): N streams decode; their
// inter-token latencies are measured for a window without admission (baseline), then while one
// long prompt of exactly --long-prompt-tokens tokens (calibrated with the server's /tokenize; sent
// as text, or as token ids with --long-prompt-format ids) is admitted, in two windows: (a)
// admission, from sending it to its first prefill chunk (HTTP body, JSON, tokenization: the
// coordinator's part; the first chunk shows as a rise of tpserve_prompt_tokens_computed_total,
// polled), and (b) a fixed window of its prefill (the compute shared with the decodes:
// --long-prefill-token-threshold and --max-prefill-step-ratio size its chunks), with the
// prefill's progress (prompt tokens/s), after which the long request is aborted. Also an n = 4
// request's prompt tokens computed against its prompt length: the prompt once plus, per sibling,
// the tail after its last whole block. Prints JSON; progress on stderr.
//   node dist/apps/cli/src/bench/admission-bench.js --url http://127.0.0.1:8000 [--streams 8]
//     [--long-prompt-tokens 100000] [--long-prompt-format text|ids] [--baseline-s 5]
//     [--prefill-window-s 5] [--stream-tokens 8000] [--block-size 16]
// The server needs --max-model-len above the long prompt's tokens.
import { Command, Option } from 'commander';
import { METRIC } from '../../../../libs/metrics/src/metric-names';
import { parseIntOption } from '../options/parse';
import { countWithServer, promptOfTokens } from './long-prompt';
import { firstModel, scrapeMetrics, type ServingTarget, streamRequest } from './serving-client';
import { percentile } from './serving-stats';

interface Options {
  url: string;
  streams: number;
  longPromptTokens: number;
  longPromptFormat: 'text' | 'ids';
  blockSize: number;
  baselineS: number;
  prefillWindowS: number;
  streamTokens: number;
  model?: string;
}

const log = (m: string): void => void process.stderr.write(`[admission-bench] ${m}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const r2 = (x: number): number => Math.round(x * 100) / 100;

/** p99 and mean of some gaps, and the p99 against the baseline's. */
function itl(gaps: number[], baselineP99: number): { p99Ms: number; meanMs: number; ratioP99: number; numGaps: number } {
  const p99 = percentile(gaps, 99);
  return { p99Ms: r2(p99), meanMs: r2(gaps.reduce((a, b) => a + b, 0) / gaps.length), ratioP99: r2(p99 / baselineP99), numGaps: gaps.length };
}

/**
 * Polls tpserve_prompt_tokens_computed_total every POLL_MS from the baseline to the end of the
 * prefill window, so every window carries the same observer load (a scrape runs on the server's
 * loop too).
 */
class ComputedTokensPoller {
  latest = NaN;
  private isStopped = false;
  private readonly done: Promise<void>;

  constructor(private readonly baseUrl: string) {
    this.done = this.run();
  }

  /** Resolves with performance.now() at the first sample above `from`, or undefined once `until` settles first. */
  async firstAbove(from: number, until: Promise<unknown>): Promise<number | undefined> {
    let isOver = false;
    void until.finally(() => (isOver = true));
    while (!isOver) {
      if (this.latest > from) return performance.now();
      await sleep(POLL_MS / 4);
    }
    return undefined;
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    await this.done;
  }

  private async run(): Promise<void> {
    while (!this.isStopped) {
      this.latest = (await scrapeMetrics(this.baseUrl))?.get(METRIC.promptTokensComputedTotal) ?? NaN;
      await sleep(POLL_MS);
    }
  }
}
const POLL_MS = 20;

/**
 * Gaps between consecutive chunks of each stream whose later chunk arrived in [from, to); with
 * `isLast`, also the gap still open at `to` (it started before `to` and ended after: a long
 * prefill step the window's end cut).
 */
function gapsIn(times: number[][], from: number, to: number, isLast = false): number[] {
  return times.flatMap((ts) => ts.slice(1).flatMap((t, i) => ((t >= from && t < to) || (isLast && t >= to && ts[i] < to) ? [t - ts[i]] : [])));
}

/** Waits (at most `maxMs`) until every stream has a chunk after `at`, so the gaps open at `at` close. */
async function nextChunks(times: number[][], at: number, maxMs: number): Promise<void> {
  const until = performance.now() + maxMs;
  while (times.some((ts) => (ts[ts.length - 1] ?? 0) < at) && performance.now() < until) await sleep(20);
}

/** The token ids of `text` as the server encodes a completions prompt. */
async function tokenIds(baseUrl: string, model: string, text: string): Promise<number[]> {
  const res = await fetch(`${baseUrl}/tokenize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, prompt: text, add_special_tokens: false }) });
  return ((await res.json()) as { tokens: number[] }).tokens;
}

/**
 * An n = 4 request: prompt tokens computed (the metric's rise) against usage's prompt tokens,
 * and the expected breakdown: the prompt once, plus for each of the 3 siblings what follows its
 * last whole block (1 to blockSize tokens: its own logits and partial block).
 */
async function sharedPrefill(baseUrl: string, model: string, blockSize: number) {
  log('n = 4 shared prefill');
  const before = await scrapeMetrics(baseUrl);
  const res = await fetch(`${baseUrl}/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, prompt: Array.from({ length: 300 }, (_, i) => `s${i}`).join(' '), n: 4, max_tokens: 4, temperature: 1, seed: 1 }),
  });
  const usage = ((await res.json()) as { usage?: { prompt_tokens: number } }).usage;
  const after = await scrapeMetrics(baseUrl);
  const computed = (after?.get(METRIC.promptTokensComputedTotal) ?? NaN) - (before?.get(METRIC.promptTokensComputedTotal) ?? NaN);
  const prompt = usage?.prompt_tokens ?? NaN; // usage counts the shared prompt once
  const tail = prompt - blockSize * Math.floor((prompt - 1) / blockSize);
  return { usagePromptTokens: usage?.prompt_tokens, promptTokens: prompt, promptTokensComputed: computed, expected: { promptOnce: prompt, perSiblingTail: tail, total: prompt + 3 * tail } };
}

async function main(o: Options): Promise<void> {
  const baseUrl = o.url.replace(/\/$/, '');
  const target: ServingTarget = { baseUrl, endpoint: 'completions', model: o.model ?? (await firstModel(baseUrl)), temperature: 0, ignoreEos: true, timeoutMs: 3_600_000 };
  const stop = new AbortController();
  const times: number[][] = Array.from({ length: o.streams }, () => []);
  log(`calibrating a ${o.longPromptTokens}-token prompt with the server's tokenizer`);
  const longText = await promptOfTokens(countWithServer(baseUrl, target.model), o.longPromptTokens);
  const longPrompt = o.longPromptFormat === 'ids' ? await tokenIds(baseUrl, target.model, longText) : longText;
  log(`${o.streams} streams start`);
  let failure: string | undefined;
  const streams = times.map((ts, i) =>
    streamRequest(target, `stream ${i}: count slowly.`, o.streamTokens, { onChunk: (t) => ts.push(t), signal: stop.signal }).then((r) => {
      if (!r.isSuccess && !stop.signal.aborted) failure = r.error;
    }),
  );
  while (times.some((ts) => ts.length < 2)) {
    if (failure !== undefined) throw new Error(`a stream failed: ${failure}`);
    await sleep(50);
  }
  const poller = new ComputedTokensPoller(baseUrl);
  const baseFrom = performance.now();
  await sleep(o.baselineS * 1000);
  const baseTo = performance.now();
  log(`admitting the ${o.longPromptTokens}-token prompt (${o.longPromptFormat})`);
  const computedBefore = poller.latest;
  const abortLong = new AbortController();
  const sentAt = performance.now();
  const long = streamRequest({ ...target, ignoreEos: false }, longPrompt, 1, { signal: abortLong.signal });
  const firstChunkAt = await poller.firstAbove(computedBefore, long);
  const hasChunk = firstChunkAt !== undefined;
  if (!hasChunk) log(`the long request ended before its prefill: ${(await long).error ?? 'no error'}`);
  const chunkAt = firstChunkAt ?? performance.now();
  log(`first prefill chunk after ${r2(chunkAt - sentAt)} ms; measuring ${o.prefillWindowS} s of its prefill`);
  const [computedAtChunk, scrapedAt] = [poller.latest, performance.now()];
  await Promise.race([sleep(o.prefillWindowS * 1000), long]);
  const prefillTo = performance.now();
  const computedAtEnd = poller.latest;
  await poller.stop();
  abortLong.abort();
  const longResult = await long;
  await nextChunks(times, prefillTo, 60_000);
  stop.abort();
  await Promise.all(streams);
  const baseline = gapsIn(times, baseFrom, baseTo);
  const baseP99 = percentile(baseline, 99);

  const shared = await sharedPrefill(baseUrl, target.model, o.blockSize);

  process.stdout.write(`${JSON.stringify({
    streams: o.streams,
    longPrompt: {
      tokens: o.longPromptTokens, format: o.longPromptFormat, chars: longText.length, admissionMs: r2(chunkAt - sentAt), prefillWindowMs: r2(prefillTo - chunkAt),
      // prompt tokens scheduled per second during the window (the price of shorter prefill steps)
      prefillTokensPerS: r2((computedAtEnd - computedAtChunk) / ((prefillTo - scrapedAt) / 1000)),
      finishedBeforeAbort: longResult.isSuccess, error: hasChunk ? undefined : longResult.error,
    },
    itl: {
      baseline: itl(baseline, baseP99),
      // (a) HTTP body, JSON, template, tokenization: up to the first prefill chunk
      admission: itl(gapsIn(times, sentAt, chunkAt), baseP99),
      // (b) the first seconds of its prefill, sharing the steps with the decodes
      prefill: itl(gapsIn(times, chunkAt, prefillTo, true), baseP99),
    },
    nEquals4: shared,
  }, null, 2)}\n`);
}

const cmd = new Command('admission-bench')
  .requiredOption('--url <url>', 'the server, e.g. http://127.0.0.1:8000')
  .option('--streams <n>', 'running streams', parseIntOption('--streams', 1, 1024), 8)
  .option('--long-prompt-tokens <n>', 'tokens of the long prompt, exactly (calibrated with the server\'s /tokenize)', parseIntOption('--long-prompt-tokens', 1), 100_000)
  .addOption(new Option('--long-prompt-format <f>', 'send it as text (tokenized by the server) or as token ids').choices(['text', 'ids']).default('text'))
  .option('--block-size <n>', 'the server\'s KV block size (for the n = 4 breakdown)', parseIntOption('--block-size', 1, 1024), 16)
  .option('--baseline-s <s>', 'seconds of ITL measured before the admission', parseIntOption('--baseline-s', 1, 3600), 5)
  .option('--prefill-window-s <s>', 'seconds of ITL measured during the long prompt\'s prefill (then it is aborted)', parseIntOption('--prefill-window-s', 1, 3600), 5)
  .option('--stream-tokens <n>', 'max_tokens of each running stream (they are stopped at the end)', parseIntOption('--stream-tokens', 1), 8000)
  .option('--model <name>', 'model id (default: the first of /v1/models)');
cmd.parse();
main(cmd.opts<Options>()).catch((err: unknown) => {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
