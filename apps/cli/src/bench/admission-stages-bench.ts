// Which part of admitting a long prompt blocks the coordinator's event loop? (issue 13) In one
// process, with the model's own tokenizer, a prompt of exactly --tokens tokens goes through each
// step of the HTTP admission path as the server runs it: the body (Buffer.concat of 64 KB chunks,
// UTF-8, JSON.parse), validateCompletionRequest, tokenization (on the loop and on a PromptPool
// thread), the choice's text pipeline, and the scheduler's admission beside --streams decoding
// requests (addRequest, schedule(): block allocation and prefix-cache hashing) with the first
// StepRequest's build and encoding. Each stage reports its time and the longest the loop was held
// meanwhile (what every running stream waits): a 1 ms interval timer's largest gap, and
// perf_hooks.monitorEventLoopDelay's max beside it (on Node 20 the latter misses most of a single
// long block: a 300 ms busy loop reads as ~4 ms, so the timer's gap is the figure to trust).
// Token-id prompts (--ids) skip the tokenizer. Prints JSON; needs the TypeScript build (dist/).
//   node dist/apps/cli/src/bench/admission-stages-bench.js --model DIR [--tokens 100000] [--streams 8] [--rounds 3]
import { Command } from 'commander';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildStepInput } from '../../../coordinator/src/engine/step-input-builder';
import { CompletionChoice } from '../../../coordinator/src/generation/completion-choice';
import { TokenText } from '../../../coordinator/src/generation/token-text';
import { PromptPool } from '../../../coordinator/src/openai/prompt-pool';
import { validateCompletionRequest } from '../../../../libs/openai-protocol/src/completion-request.validator';
import { Scheduler } from '../../../../libs/scheduler/src/scheduler';
import { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';
import { stepInputToProto } from '../../../../libs/worker-protocol/src/step-codec';
import { encodeStepRequest } from '../../../../libs/worker-protocol/src/proto-loader';
import { parseIntOption } from '../options/parse';
import { promptOfTokens } from './long-prompt';

const r2 = (x: number): number => Math.round(x * 100) / 100;
const log = (m: string): void => void process.stderr.write(`[admission-stages] ${m}\n`);

/** Runs `stage`: its wall time and the longest event-loop stalls while it ran (ms). */
async function measure<T>(stage: () => T | Promise<T>): Promise<{ value: T; ms: number; loopMaxMs: number; eldMaxMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  let last = performance.now();
  let maxGap = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 5));
  [maxGap, last] = [0, performance.now()];
  h.reset();
  const t0 = performance.now();
  const value = await stage();
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 5)); // the probe that was held fires now and records the gap
  clearInterval(probe);
  h.disable();
  return { value, ms: r2(ms), loopMaxMs: r2(maxGap), eldMaxMs: r2(h.max / 1e6) };
}

/** A scheduler as the server builds it (block size 16, 2048-token steps) with `streams` requests decoding. */
function schedulerWithStreams(streams: number, maxModelLen: number): Scheduler<Record<string, never>> {
  const s = new Scheduler<Record<string, never>>({ maxNumBatchedTokens: 2048, maxNumSeqs: 64, maxWaiting: 64, enableChunkedPrefill: true, blockSize: 16, numBlocks: Math.ceil((maxModelLen * 2) / 16), maxModelLen, enablePrefixCaching: true, asyncScheduling: false });
  for (let i = 0; i < streams; i++) s.addRequest({ requestId: i + 1, promptTokens: [5 + i, 6, 7, 8], samplingParams: {}, maxTokens: 10_000 });
  for (let k = 0; k < 4; k++) {
    const out = s.schedule();
    s.updateFromOutput(out, out.scheduled.map((e) => ({ requestId: e.requestId, token: 9 })));
  }
  return s;
}

async function main(o: { model: string; tokens: number; streams: number; rounds: number; ids: boolean }): Promise<void> {
  const tokenizer = Tokenizer.fromModelDir(o.model);
  const text = await promptOfTokens((t) => Promise.resolve(tokenizer.encode(t).length), o.tokens);
  const ids = tokenizer.encode(text);
  log(`prompt: ${text.length} characters, ${ids.length} tokens`);
  const pool = new PromptPool(o.model, 1);
  const tokenText = new TokenText(tokenizer);
  await pool.encode('warm up');
  const rounds = [];
  for (let round = 0; round < o.rounds; round++) {
    const wire = JSON.stringify({ model: 'm', prompt: o.ids ? ids : text, max_tokens: 16, stream: true });
    const bytes = Buffer.from(wire, 'utf8');
    const chunks = Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) => bytes.subarray(i * 65536, (i + 1) * 65536));
    const body = await measure(() => JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
    const validate = await measure(() => validateCompletionRequest(body.value, { vocabSize: tokenizer.vocabSize }));
    const onLoop = o.ids ? undefined : await measure(() => tokenizer.encode(text));
    const onThread = o.ids ? undefined : await measure(() => pool.encode(text));
    const promptTokens = onThread?.value ?? ids;
    const choice = await measure(() => new CompletionChoice(tokenizer, tokenText, { promptTokens, stop: [], includeStopStrInOutput: false, numTopLogprobs: -1 }));
    const scheduler = schedulerWithStreams(o.streams, o.tokens + 1024);
    const add = await measure(() => scheduler.addRequest({ requestId: 1000, promptTokens, samplingParams: {}, maxTokens: 16 }));
    const schedule = await measure(() => scheduler.schedule());
    const encode = await measure(() => encodeStepRequest(stepInputToProto(buildStepInput(schedule.value as never, (id) => scheduler.getRequest(id)?.allTokens))).length);
    const stages = { body, validate, tokenizeOnLoop: onLoop, tokenizeOnThread: onThread, choice, addRequest: add, firstSchedule: schedule, firstStepEncode: encode };
    rounds.push(Object.fromEntries(Object.entries(stages).filter(([, v]) => v !== undefined).map(([k, v]) => [k, { ms: v!.ms, loopMaxMs: v!.loopMaxMs, eldMaxMs: v!.eldMaxMs }])));
    log(`round ${round + 1}: ${JSON.stringify(rounds[rounds.length - 1])}`);
  }
  await pool.close();
  process.stdout.write(`${JSON.stringify({ promptTokens: ids.length, promptChars: text.length, format: o.ids ? 'token ids' : 'text', streams: o.streams, rounds }, null, 2)}\n`);
}

const cmd = new Command('admission-stages-bench')
  .requiredOption('--model <dir>', 'model directory (its tokenizer.json)')
  .option('--tokens <n>', 'prompt tokens', parseIntOption('--tokens', 1), 100_000)
  .option('--streams <n>', 'requests decoding in the scheduler', parseIntOption('--streams', 0, 1024), 8)
  .option('--rounds <n>', 'repetitions', parseIntOption('--rounds', 1, 100), 3)
  .option('--ids', 'send the prompt as token ids (no tokenization)', false);
cmd.parse();
main(cmd.opts()).catch((err: unknown) => {
  log(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exit(1);
});
