// `tpserve generate`: tokenizes a prompt (or takes token ids), runs prefill then decode on the
// engine (tp 1 in-process, tp > 1 through worker processes) and streams the text to stdout as
// it is generated. Stops at max tokens or an end-of-sequence token. --bandwidth-floor (cpu, tp 1)
// then probes this host's read bandwidth and prints decode as a percentage of its floor.
import type { Command } from 'commander';
import { cpus } from 'node:os';
import { SingleSequenceDriver } from '../../../../libs/native/src/single-sequence-driver';
import { PLACEHOLDER_TOKEN, type SamplingParams } from '../../../../libs/native/src/types';
import { IncrementalDetokenizer } from '../../../../libs/tokenizer/src/incremental-detokenizer';
import { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';
import { parseFloatOption, parseIntOption, parseTokenList } from '../options/parse';
import { floorMs, probeReadBandwidthGBps } from '../bench/bandwidth-floor';
import { addEngineAndWorkerOptions, openExecutor, type EngineCliOptions } from './engine-options';
import { TurnBatchedText } from './turn-batched-text';

/** "decode at P % of the bandwidth floor: B MB per token at G GB/s (floor F ms, measured M ms)". */
function floorLine(bytesPerToken: number, msPerToken: number, engineThreads: number): string {
  const threads = engineThreads || cpus().length; // the engine's own pool size (0 = all cores)
  const gbps = probeReadBandwidthGBps(threads);
  const floor = floorMs(bytesPerToken, gbps);
  return `decode at ${((floor / msPerToken) * 100).toFixed(1)} % of the bandwidth floor: ${(bytesPerToken / 1e6).toFixed(1)} MB per token ` +
    `at ${gbps.toFixed(1)} GB/s read with ${threads} threads (floor ${floor.toFixed(2)} ms, measured ${msPerToken.toFixed(2)} ms)`;
}

/** Decode steps in flight at once (see the decode loop). */
const DECODE_WINDOW = 8;

interface GenerateOptions extends EngineCliOptions {
  prompt?: string;
  tokens?: number[];
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  seed?: number;
  ignoreEos?: boolean;
  bandwidthFloor?: boolean;
}

export function registerGenerate(program: Command): void {
  const cmd = program
    .command('generate')
    .description('generate text from a prompt, streaming it to stdout')
    .option('--prompt <text>', 'prompt text (tokenized with the model directory\'s tokenizer.json)')
    .option('--tokens <ids>', 'prompt as comma-separated token ids', parseTokenList)
    .requiredOption('--max-tokens <n>', 'tokens to generate', parseIntOption('--max-tokens', 1, 1_000_000))
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', parseFloatOption('--temperature', 0, 100), 1)
    .option('--top-p <p>', 'nucleus sampling mass', parseFloatOption('--top-p', 0, 1), 1)
    .option('--top-k <k>', 'keep the k most likely tokens (0 = off)', parseIntOption('--top-k', 0, 1_000_000), 0)
    .option('--min-p <p>', 'drop tokens below min-p times the best', parseFloatOption('--min-p', 0, 1), 0)
    .option('--seed <n>', 'sampling seed', parseIntOption('--seed', 0))
    .option('--ignore-eos', 'keep going after an end-of-sequence token')
    .option('--bandwidth-floor', "after decoding, measure this host's memory read bandwidth and print decode as a percentage of its floor (the weight bytes a token streams / that bandwidth; cpu, --tp 1)");
  addEngineAndWorkerOptions(cmd);
  cmd.action(async (opts: GenerateOptions) => {
    if ((opts.prompt === undefined) === (opts.tokens === undefined)) throw new Error('give exactly one of --prompt or --tokens');
    if (opts.bandwidthFloor && (opts.device !== 'cpu' || opts.tp !== 1))
      throw new Error('--bandwidth-floor measures the host memory one CPU engine reads: it needs --device cpu and --tp 1');
    const tokenizer = Tokenizer.fromModelDir(opts.model);
    const prompt = opts.tokens ?? tokenizer.encode(opts.prompt ?? '');
    const executor = await openExecutor(opts);
    try {
      const info = executor.info();
      const bad = prompt.find((t) => t >= info.vocabSize);
      if (bad !== undefined) throw new Error(`token id ${bad} is outside the model's vocabulary [0, ${info.vocabSize})`);
      const params: SamplingParams = {
        temperature: opts.temperature,
        topP: opts.topP,
        topK: opts.topK,
        minP: opts.minP,
        seed: opts.seed,
        vocabLimit: Math.min(tokenizer.vocabSize, info.vocabSize),
      };
      const eos = new Set(info.eosTokenIds);
      const text = new TurnBatchedText(new IncrementalDetokenizer(tokenizer, { skipSpecialTokens: true }), (piece) =>
        process.stdout.write(piece),
      );
      const driver = new SingleSequenceDriver(executor, undefined, true);
      const started = performance.now();
      let { sample } = await driver.prefill(prompt, params, { sample: true, logits: 'none' });
      const prefilled = performance.now();
      // Decode steps go out DECODE_WINDOW ahead of the reply they take their token from (the engine
      // fills each placeholder), so the engine never waits for this loop, and their replies may
      // wait for later ones, so this loop wakes once per several tokens; steps sent past an EOS
      // are dropped.
      let decoded = 0;
      let sent = 1; // tokens produced or on their way; the prefill's sample is the first
      let finished = prefilled;
      const window: ReturnType<SingleSequenceDriver['decode']>[] = [];
      let refused = false; // a decode the driver refused (no KV block left): the window ends there
      const topUp = (first: number): void => {
        for (; !refused && window.length < DECODE_WINDOW && sent < opts.maxTokens; sent++) {
          let step: ReturnType<SingleSequenceDriver['decode']>;
          try {
            step = driver.decode(sent === 1 ? first : PLACEHOLDER_TOKEN);
          } catch (err) {
            // in its turn: the tokens before it are printed first, and an EOS before it ends the run
            refused = true;
            step = Promise.reject(err instanceof Error ? err : new Error(String(err)));
          }
          void step.catch(() => undefined); // awaited below; an earlier failure must not leave it unhandled
          window.push(step);
        }
      };
      try {
        while (sample) {
          if (eos.has(sample.token) && !opts.ignoreEos) break;
          text.push(sample.token);
          topUp(sample.token);
          const next = window.shift();
          if (!next) break;
          sample = (await next).sample;
          finished = performance.now();
          decoded++;
        }
      } finally {
        await Promise.allSettled(window); // no step may still run when the executor closes
        text.finish(); // on an error too: the text generated before it is not lost
      }
      process.stdout.write('\n');
      // Speed on stderr so that stdout stays the generated text.
      const rate = (n: number, ms: number): string => (ms > 0 ? (n / (ms / 1000)).toFixed(1) : '-');
      process.stderr.write(
        `prefill: ${prompt.length} tokens in ${(prefilled - started).toFixed(0)} ms (${rate(prompt.length, prefilled - started)} tok/s); ` +
          `decode: ${decoded} tokens in ${(finished - prefilled).toFixed(0)} ms (${rate(decoded, finished - prefilled)} tok/s)` +
          `${opts.quantization !== 'none' ? `, ${opts.quantization} weights` : ''}\n`,
      );
      if (opts.bandwidthFloor && decoded > 0) process.stderr.write(floorLine(info.decodeBytesPerToken, (finished - prefilled) / decoded, opts.threads) + '\n');
      await driver.release();
    } finally {
      await executor.close();
    }
  });
}
