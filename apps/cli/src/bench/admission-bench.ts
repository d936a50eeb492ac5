// Long-prompt admission benchmark (issue 13): does a huge prompt stall the streams already
// running? Against a running tpserve (or any OpenAI-compatible server): N streams decode; their
// inter-token latencies are measured for a window without admission (baseline), then while one
// long prompt (~100K tokens, max_tokens 1) is admitted (tokenized, prefilled in chunks). Also an
// n = 4 request's prompt tokens computed (tpserve_prompt_tokens_computed_total delta) against its
// prompt length. Prints JSON; progress on stderr.
//   node dist/apps/cli/src/bench/admission-bench.js --url http://127.0.0.1:8000 [--streams 8]
//     [--long-prompt-words 100000] [--baseline-s 5] [--stream-tokens 8000] [--model NAME]
// The server needs --max-model-len above the long prompt's tokens.
import { Command } from 'commander';
import { METRIC } from '../../../../libs/metrics/src/metric-names';
import { parseIntOption } from '../options/parse';
import { firstModel, scrapeMetrics, type ServingTarget, streamRequest } from './serving-client';
import { percentile } from './serving-stats';

interface Options {
  url: string;
  streams: number;
  longPromptWords: number;
  baselineS: number;
  streamTokens: number;
  model?: string;
}

const log = (m: string): void => void process.stderr.write(`[admission-bench] ${m}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const r2 = (x: number): number => Math.round(x * 100) / 100;

/** Gaps between consecutive chunks of each stream whose later chunk arrived in [from, to). */
function gapsIn(times: number[][], from: number, to: number): number[] {
  return times.flatMap((ts) => ts.slice(1).flatMap((t, i) => (t >= from && t < to ? [t - ts[i]] : [])));
}

async function main(o: Options): Promise<void> {
  const baseUrl = o.url.replace(/\/$/, '');
  const target: ServingTarget = { baseUrl, endpoint: 'completions', model: o.model ?? (await firstModel(baseUrl)), temperature: 0, ignoreEos: true, timeoutMs: 3_600_000 };
  const stop = new AbortController();
  const times: number[][] = Array.from({ length: o.streams }, () => []);
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
  const baseFrom = performance.now();
  await sleep(o.baselineS * 1000);
  const baseTo = performance.now();
  log(`admitting a ${o.longPromptWords}-word prompt`);
  const longPrompt = Array.from({ length: o.longPromptWords }, (_, i) => `w${i % 997}`).join(' ');
  const long = await streamRequest({ ...target, ignoreEos: false }, longPrompt, 1);
  const admitTo = performance.now();
  await sleep(200);
  stop.abort();
  await Promise.all(streams);
  const baseline = gapsIn(times, baseFrom, baseTo);
  const during = gapsIn(times, baseTo, admitTo);

  log('n = 4 shared prefill');
  const before = await scrapeMetrics(baseUrl);
  const shared = await fetch(`${baseUrl}/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: target.model, prompt: Array.from({ length: 300 }, (_, i) => `s${i}`).join(' '), n: 4, max_tokens: 4, temperature: 1, seed: 1 }),
  }).then((r) => r.json() as Promise<{ usage?: { prompt_tokens: number } }>);
  const after = await scrapeMetrics(baseUrl);
  const computed = (after?.get(METRIC.promptTokensComputedTotal) ?? NaN) - (before?.get(METRIC.promptTokensComputedTotal) ?? NaN);

  process.stdout.write(`${JSON.stringify({
    streams: o.streams,
    longPrompt: { words: o.longPromptWords, promptTokens: long.inputTokens, isSuccess: long.isSuccess, error: long.error, admissionMs: r2(admitTo - baseTo) },
    itlP99Ms: { baseline: r2(percentile(baseline, 99)), duringAdmission: r2(percentile(during, 99)), ratio: r2(percentile(during, 99) / percentile(baseline, 99)) },
    itlMeanMs: { baseline: r2(baseline.reduce((a, b) => a + b, 0) / baseline.length), duringAdmission: r2(during.reduce((a, b) => a + b, 0) / during.length) },
    numGaps: { baseline: baseline.length, duringAdmission: during.length },
    nEquals4: { promptTokens: shared.usage?.prompt_tokens, promptTokensComputed: computed },
  }, null, 2)}\n`);
}

const cmd = new Command('admission-bench')
  .requiredOption('--url <url>', 'the server, e.g. http://127.0.0.1:8000')
  .option('--streams <n>', 'running streams', parseIntOption('--streams', 1, 1024), 8)
  .option('--long-prompt-words <n>', 'words of the long prompt (about one token each)', parseIntOption('--long-prompt-words', 1), 100_000)
  .option('--baseline-s <s>', 'seconds of ITL measured before the admission', parseIntOption('--baseline-s', 1, 3600), 5)
  .option('--stream-tokens <n>', 'max_tokens of each running stream (they are stopped at the end)', parseIntOption('--stream-tokens', 1), 8000)
  .option('--model <name>', 'model id (default: the first of /v1/models)');
cmd.parse();
main(cmd.opts<Options>()).catch((err: unknown) => {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
