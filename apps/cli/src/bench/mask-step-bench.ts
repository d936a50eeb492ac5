// What a structured-output mask costs a decode step (`node dist/apps/cli/src/bench/mask-step-bench.js`):
// the engine in-process on a model of the real vocabulary (make-tiny-model --tokenizer the Seed
// tokenizer: 155,136 rows), batch --batch decode steps sent through the real wire path (step codec,
// protobuf bytes, the worker's deserializer) with no mask, every sequence masked as in a JSON string
// (json_object after `{"a":"`: most of the vocabulary, sent as a bitmask; one mask shared by the
// batch, or a distinct copy per sequence: the worst case) or at a structural position (after `{`:
// a few ids, sent as a list). Variants alternate round by round in ONE run (in rotated order), so
// the machine's noise hits each alike. JSON on stdout: per variant the step time (median ms), the
// wire time alone (encode + decode, median ms), the engine's sampling time (masks applied +
// sampling, median ms) and throughput relative to no mask. Progress on stderr.
//   node dist/apps/cli/src/bench/mask-step-bench.js --model DIR [--batch 16] [--rounds 8] [--steps 4] [--threads 1]
import { Command } from 'commander';
import * as path from 'node:path';
import { NativeEngine } from '../../../../libs/native/src/native-engine';
import type { StepExecutor } from '../../../../libs/native/src/step-executor';
import type { StepInput } from '../../../../libs/native/src/types';
import { GrammarCompiler } from '../../../../libs/structured-output/src/grammar-compiler';
import { GrammarMatcher } from '../../../../libs/structured-output/src/grammar-matcher';
import { VocabIndex } from '../../../../libs/structured-output/src/vocab-index';
import { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';
import { encodeStepRequest, loadWorkerService } from '../../../../libs/worker-protocol/src/proto-loader';
import { stepInputFromProto, stepInputToProto } from '../../../../libs/worker-protocol/src/step-codec';
import { parseIntOption } from '../options/parse';
import { BatchRunner } from './batch-runner';

const log = (line: string): void => void process.stderr.write(`[bench:mask-step] ${line}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** The engine behind the wire path, every sampled sequence given the current variant's mask. */
class WireExecutor {
  /** The mask of the i-th sampled sequence (cycled), none when empty. */
  masks: Uint32Array[] = [];
  readonly wireMs: number[] = [];
  /** Rank 0's sampling time (masks applied + sampling), ms. */
  readonly samplingMs: number[] = [];
  constructor(private readonly engine: NativeEngine) {}
  info(): ReturnType<NativeEngine['info']> {
    return this.engine.info();
  }
  step(input: StepInput): ReturnType<NativeEngine['step']> {
    const masks = this.masks;
    const masked = { ...input, scheduled: input.scheduled.map((s, i) => (s.sample && masks.length > 0 ? { ...s, tokenBitmask: masks[i % masks.length] } : s)) };
    const t0 = performance.now();
    const bytes = encodeStepRequest(stepInputToProto(masked));
    const decoded = stepInputFromProto(loadWorkerService().service.StepStream.requestDeserialize(bytes));
    this.wireMs.push(performance.now() - t0);
    return this.engine.step(decoded).then((out) => (this.samplingMs.push(out.timings.samplingUs / 1000), out));
  }
}

async function main(): Promise<void> {
  const o = new Command()
    .requiredOption('--model <dir>', 'model directory (make-tiny-model --tokenizer fixtures/seed-oss/tokenizer.Seed-OSS-36B-Base.json.br)')
    .option('--batch <n>', 'sequences per step', parseIntOption('--batch', 1, 256), 16)
    .option('--rounds <n>', 'rounds (each runs every variant)', parseIntOption('--rounds', 1, 1000), 8)
    .option('--steps <n>', 'decode steps per variant per round', parseIntOption('--steps', 1, 1000), 4)
    .option('--threads <n>', 'engine threads', parseIntOption('--threads', 1, 1024), 1)
    .parse()
    .opts<{ model: string; batch: number; rounds: number; steps: number; threads: number }>();
  const tokenizer = Tokenizer.fromModelDir(o.model);
  const engine = await NativeEngine.load({ modelDir: o.model, device: 'cpu', numThreads: o.threads, numKvBlocks: o.batch * Math.ceil((16 + o.rounds * o.steps * 4) / 8) + 16 }); // blocks of >= 8 tokens, 4 variants
  const vocabSize = engine.info().vocabSize;
  const added = [...tokenizer.addedTokens].map(([content, t]) => ({ content, id: t.id, special: t.special }));
  const vocab = VocabIndex.fromVocabulary({ tokens: tokenizer.modelVocabulary(), added, isByteLevel: tokenizer.isByteLevel }, vocabSize);
  const grammar = new GrammarCompiler(vocab, [tokenizer.eosTokenId ?? 0]).compile({ kind: 'json_object' });
  const maskAfter = (text: string): Uint32Array => {
    const m = new GrammarMatcher(grammar);
    if (!m.acceptText(text)) throw new Error(`json_object refuses ${text}`);
    return m.mask().bits;
  };
  const inString = maskAfter('{"a":"');
  const variants: Record<string, Uint32Array[]> = {
    none: [],
    string_bitmask: [inString], // one state shared by the batch: sent once per step
    string_bitmask_distinct: Array.from({ length: o.batch }, () => inString.slice()), // no two alike: the worst case
    structural_ids: [maskAfter('{')],
  };
  const popcount = (bits: Uint32Array): number => bits.reduce((n, w) => n + w.toString(2).split('1').length - 1, 0);
  for (const [name, masks] of Object.entries(variants)) if (masks.length > 0) log(`${name}: ${popcount(masks[0])} of ${vocabSize} ids allowed`);
  const wire = new WireExecutor(engine);
  const runner = new BatchRunner(wire as unknown as StepExecutor);
  await runner.warmup();
  await runner.timedPrefill(o.batch, 8);
  const stepMs: Record<string, number[]> = {}, wireMs: Record<string, number[]> = {}, samplingMs: Record<string, number[]> = {};
  for (let r = 0; r < o.rounds; r++) {
    const order = Object.entries(variants);
    for (const [name, bits] of [...order.slice(r % order.length), ...order.slice(0, r % order.length)]) { // rotated: no variant always runs last
      wire.masks = bits;
      wire.wireMs.length = 0;
      wire.samplingMs.length = 0;
      const ms = await runner.timedDecode(o.steps);
      (stepMs[name] ??= []).push(ms / o.steps);
      (wireMs[name] ??= []).push(...wire.wireMs);
      (samplingMs[name] ??= []).push(...wire.samplingMs);
    }
    log(`round ${r + 1}/${o.rounds}: ${Object.entries(stepMs).map(([k, v]) => `${k} ${round3(v[v.length - 1])} ms`).join(', ')}`);
  }
  await runner.finishAll();
  const none = median(stepMs.none);
  const result = Object.fromEntries(Object.keys(variants).map((k) => [k, { step_ms: round3(median(stepMs[k])), wire_ms: round3(median(wireMs[k])), sampling_ms: round3(median(samplingMs[k])), throughput_vs_none: round3(none / median(stepMs[k])) }]));
  process.stdout.write(JSON.stringify({ model: path.basename(o.model), vocab_size: vocabSize, batch: o.batch, rounds: o.rounds, steps: o.steps, threads: o.threads, variants: result }, null, 2) + '\n');
  engine.dispose();
}

void main();
