// Engine benchmark (`npm run bench:engine`): the engine in-process on this machine, on a random
// bf16 model written once under .tpserve/ (--shape 246m: the Llama shape of issue 11; 0p5b: the
// ~0.5B Seed-OSS shape). For each weight format asked (bf16 = none, int8, int4, fp8, quantized at
// load) it measures, in ONE run: decode tokens/s at batch 1, 8 and 32, prefill tokens/s, weight
// bytes streamed per decode step, and batch-1 decode as a percentage of the bandwidth floor
// (those bytes / the memory read bandwidth), plus each format's batch-1 speed-up over bf16.
// All formats are loaded together, and batch 1 is timed in --rounds interleaved rounds, each
// after its own bandwidth probe (batch1-rounds.ts): the floor and the speed-ups are medians of
// per-round figures, so the host's bandwidth drift does not decide them. JSON on stdout,
// progress on stderr.
//   node dist/apps/cli/src/bench/engine-bench.js [--shape 246m] [--quantizations none,int8,int4,fp8]
//     [--quantize-lm-head] [--threads N] [--decode-steps 16] [--prefill-tokens 512] [--context 128]
//     [--kv-cache-dtype auto|f32|bf16|f16] [--steps-ahead 2] [--batch-invariant off|on|both]
//     [--rounds 5] [--short]
// Decode steps go out before the reply of the step they follow (--steps-ahead, as the server's
// async scheduling sends them); batch 1 is also timed synchronously (batch1Synchronous) to show
// the per-step host round trip that hides. --batch-invariant both runs each format a second time
// with EngineOptions.batchInvariant ("<format> batch-invariant") and reports the ratios.
import { Command, Option } from 'commander';
import { cpus } from 'node:os';
import * as path from 'node:path';
import { findRepoRoot } from '../../../../libs/native/src/addon';
import { NativeEngine } from '../../../../libs/native/src/native-engine';
import { KV_CACHE_DTYPE_HELP, KV_CACHE_DTYPES, QUANTIZATIONS, type KvCacheDtype, type Quantization } from '../../../../libs/native/src/types';
import { parseIntOption } from '../options/parse';
import { BatchRunner } from './batch-runner';
import { floorMs, probeReadBandwidthGBps } from './bandwidth-floor';
import { summarizeBatch1Rounds, type Batch1Round, type Batch1Summary } from './batch1-rounds';
import { BENCH_MODEL_0P5B, BENCH_MODEL_246M, ensureBenchModel, numParameters, type BenchModelShape } from './bench-model';
import { percentile } from './serving-stats';

interface Options {
  threads: number;
  decodeSteps: number;
  prefillTokens: number;
  context: number;
  shape: string;
  quantizations: string;
  short?: boolean;
  quantizeLmHead?: boolean;
  model?: string;
  kvCacheDtype: KvCacheDtype;
  stepsAhead: number;
  batchInvariant: string;
  rounds: number;
}

const BATCH_INVARIANT_MODES = ['off', 'on', 'both'] as const;

// Issue 11's targets for this machine.
const TARGETS = { bf16Batch1DecodePercentOfBandwidthFloor: 80, int8SpeedupOverBf16: 1.8, int4SpeedupOverBf16: 3 };

const SHAPES: Record<string, BenchModelShape> = { '246m': BENCH_MODEL_246M, '0p5b': BENCH_MODEL_0P5B };
const log = (line: string): void => void process.stderr.write(`[bench:engine] ${line}\n`);
const round1 = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

function parseQuantizations(text: string): Quantization[] {
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const q of list) if (!QUANTIZATIONS.includes(q as Quantization)) throw new Error(`--quantizations: '${q}' is not one of ${QUANTIZATIONS.join(', ')}`);
  if (list.length === 0) throw new Error('--quantizations: give at least one of ' + QUANTIZATIONS.join(', '));
  return list as Quantization[];
}

interface Sizes {
  batches: number[];
  decodeSteps: number;
  prefillTokens: number;
  context: number;
  stepsAhead: number;
}

interface LoadedFormat {
  name: string;
  engine: NativeEngine;
  runner: BatchRunner;
  /** Weight bytes a decode step streams (the engine's count: every weight once, of the embedding table one row). */
  bytesPerToken: number;
}

async function loadFormat(name: string, modelDir: string, quantization: Quantization, lmHead: boolean, threads: number, z: Sizes, kvCacheDtype: KvCacheDtype, batchInvariant: boolean): Promise<LoadedFormat> {
  const maxBatch = Math.max(...z.batches);
  const blocksPerSeq = Math.ceil((Math.max(z.prefillTokens, z.context + 2 * z.decodeSteps + 8) + 8) / 16);
  log(`${name}: loading ${modelDir}`);
  const engine = await NativeEngine.load({ modelDir, device: 'cpu', numThreads: threads, numKvBlocks: maxBatch * blocksPerSeq + 8, quantization, quantizeLmHead: lmHead && quantization !== 'none', kvCacheDtype, batchInvariant });
  const info = engine.info();
  const runner = new BatchRunner(engine);
  await runner.warmup();
  return { name, engine, runner, bytesPerToken: info.decodeBytesPerToken };
}

/** Mean ms per decode step of `batch` sequences after a `context`-token prefill: steps sent ahead, and (batch 1) synchronous. */
async function timeDecode(f: LoadedFormat, batch: number, z: Sizes, synchronousToo: boolean): Promise<{ stepMs: number; synchronousStepMs?: number }> {
  await f.runner.timedPrefill(batch, z.context);
  await f.runner.timedDecode(1);
  const stepMs = (await f.runner.timedDecode(z.decodeSteps, z.stepsAhead)) / z.decodeSteps;
  const synchronousStepMs = synchronousToo ? (await f.runner.timedDecode(z.decodeSteps, 0)) / z.decodeSteps : undefined;
  await f.runner.finishAll();
  return { stepMs, synchronousStepMs };
}

/** One round: the read bandwidth now, then batch-1 decode of every format (the order turned by `round`). */
async function batch1Round(formats: LoadedFormat[], round: number, z: Sizes, threads: number): Promise<Batch1Round> {
  const bandwidthGBps = probeReadBandwidthGBps(threads);
  const r: Batch1Round = { bandwidthGBps, stepMs: {}, synchronousStepMs: {} };
  for (let i = 0; i < formats.length; i++) {
    const f = formats[(i + round) % formats.length];
    const t = await timeDecode(f, 1, z, true);
    r.stepMs[f.name] = t.stepMs;
    r.synchronousStepMs[f.name] = t.synchronousStepMs!;
  }
  log(`round ${round + 1}: ${round1(bandwidthGBps)} GB/s; batch 1 ms per step ${formats.map((f) => `${f.name} ${round1(r.stepMs[f.name], 2)}`).join(', ')}`);
  return r;
}

/** Batched decode and prefill of one format, then its batch-1 summary over the rounds. */
async function benchRest(f: LoadedFormat, z: Sizes, b1: Batch1Summary, medianGBps: number) {
  const decode: Record<string, { tokensPerS: number; stepMs: number }> = {};
  const entry = (batch: number, stepMs: number) => ({ tokensPerS: round1((batch * 1000) / stepMs), stepMs: round1(stepMs, 2) });
  decode.batch1 = entry(1, b1.stepMs);
  decode.batch1Synchronous = entry(1, b1.synchronousStepMs);
  for (const batch of z.batches.filter((b) => b > 1)) {
    log(`${f.name}: decode at batch ${batch}: prefill ${batch} x ${z.context} tokens, then ${z.decodeSteps} timed steps`);
    decode[`batch${batch}`] = entry(batch, (await timeDecode(f, batch, z, false)).stepMs);
  }
  log(`${f.name}: prefill of one sequence of ${z.prefillTokens} tokens`);
  const prefillMs = Math.min(
    await f.runner.timedPrefill(1, z.prefillTokens).finally(() => f.runner.finishAll()),
    await f.runner.timedPrefill(1, z.prefillTokens).finally(() => f.runner.finishAll()),
  );
  const info = f.engine.info();
  return {
    weightBytes: info.weightBytes,
    bytesPerToken: f.bytesPerToken,
    decode,
    prefill: { tokens: z.prefillTokens, tokensPerS: round1((z.prefillTokens * 1000) / prefillMs), stepMs: round1(prefillMs, 1) },
    /** At the median round's bandwidth. */
    bandwidthFloorMsPerToken: round1(floorMs(f.bytesPerToken, medianGBps), 2),
    /** Median over the rounds, each against its own probe; the range is the lowest and highest round. */
    batch1DecodePercentOfBandwidthFloor: round1(b1.percentOfFloor),
    batch1DecodePercentOfBandwidthFloorRange: b1.percentOfFloorRange.map((x) => round1(x)),
    backend: info.device,
  };
}

/** Each "<format> batch-invariant" entry's speeds over its format's default run (1 = no cost). */
function invariantRatios(formats: Record<string, Awaited<ReturnType<typeof benchRest>>>) {
  const out: Record<string, Record<string, number>> = {};
  for (const [name, inv] of Object.entries(formats)) {
    const base = formats[name.replace(/ batch-invariant$/, '')];
    if (!name.endsWith(' batch-invariant') || base === undefined) continue;
    const ratios: Record<string, number> = { prefill: round1(inv.prefill.tokensPerS / base.prefill.tokensPerS, 2) };
    for (const [b, d] of Object.entries(inv.decode)) ratios[`decode ${b}`] = round1(d.tokensPerS / base.decode[b].tokensPerS, 2);
    out[name] = ratios;
  }
  return out;
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--threads <n>', 'engine threads (0 = all cores)', parseIntOption('--threads', 0, 1024), 0)
    .option('--decode-steps <n>', 'timed decode steps per batch size', parseIntOption('--decode-steps', 1, 10_000), 16)
    .option('--prefill-tokens <n>', 'prompt length of the prefill measurement', parseIntOption('--prefill-tokens', 1, 32_768), 512)
    .option('--context <n>', 'prompt length before the decode measurements', parseIntOption('--context', 1, 32_768), 128)
    .option('--shape <name>', `generated model: ${Object.keys(SHAPES).join(' or ')}`, '246m')
    .option('--quantizations <list>', 'weight formats side by side (none = bf16)', 'none,int8,int4,fp8')
    .option('--quantize-lm-head', 'quantize the lm_head too (int8 / int4 / fp8 formats)')
    .option('--short', 'a quick check that it runs: batches 1 and 8, 4 decode steps, 64-token prefill')
    .option('--model <dir>', 'benchmark this model instead of a generated one')
    .addOption(new Option('--kv-cache-dtype <dtype>', KV_CACHE_DTYPE_HELP).choices(KV_CACHE_DTYPES).default('auto'))
    .option('--batch-invariant <mode>', `${BATCH_INVARIANT_MODES.join(', ')}: the engine's batch-invariant mode, or each format both ways side by side`, 'off')
    .option('--rounds <n>', 'interleaved batch-1 rounds over all formats, each after its own bandwidth probe (medians reported)', parseIntOption('--rounds', 1, 100), 5)
    .option('--steps-ahead <n>', 'decode steps sent before the reply they follow (0 = wait for each reply; the server sends 2)', parseIntOption('--steps-ahead', 0, 8), 2)
    .parse(process.argv)
    .opts<Options>();
  const shape = SHAPES[o.shape];
  if (!shape) throw new Error(`--shape: '${o.shape}' is not one of ${Object.keys(SHAPES).join(', ')}`);
  const quantizations = parseQuantizations(o.quantizations);
  const kvCacheDtype = o.kvCacheDtype;
  if (!(BATCH_INVARIANT_MODES as readonly string[]).includes(o.batchInvariant)) throw new Error(`--batch-invariant: '${o.batchInvariant}' is not one of ${BATCH_INVARIANT_MODES.join(', ')}`);
  const invariantModes = o.batchInvariant === 'both' ? [false, true] : [o.batchInvariant === 'on'];
  const sizes: Sizes = o.short
    ? { batches: [1, 8], decodeSteps: 4, prefillTokens: 64, context: 32, stepsAhead: o.stepsAhead }
    : { batches: [1, 8, 32], decodeSteps: o.decodeSteps, prefillTokens: o.prefillTokens, context: o.context, stepsAhead: o.stepsAhead };
  const threads = o.threads || cpus().length;
  const modelDir = o.model ?? ensureBenchModel(path.join(findRepoRoot(), '.tpserve', `bench-model-${o.shape}`), shape, log);

  const loaded: LoadedFormat[] = [];
  try {
    for (const q of quantizations) {
      for (const invariant of invariantModes) {
        const name = `${q === 'none' ? 'bf16' : q}${invariant && o.batchInvariant === 'both' ? ' batch-invariant' : ''}`;
        loaded.push(await loadFormat(name, modelDir, q, o.quantizeLmHead === true, threads, sizes, kvCacheDtype, invariant));
      }
    }
    log(`batch-1 decode of ${loaded.map((f) => f.name).join(', ')} in ${o.rounds} interleaved round(s), each after a bandwidth probe`);
    const rounds: Batch1Round[] = [];
    for (let r = 0; r < o.rounds; r++) rounds.push(await batch1Round(loaded, r, sizes, threads));
    const bytes = Object.fromEntries(loaded.map((f) => [f.name, f.bytesPerToken]));
    const b1 = summarizeBatch1Rounds(rounds, bytes, bytes.bf16 !== undefined ? 'bf16' : undefined);
    const medianGBps = percentile(rounds.map((r) => r.bandwidthGBps), 50);
    const formats: Record<string, Awaited<ReturnType<typeof benchRest>>> = {};
    for (const f of loaded) formats[f.name] = await benchRest(f, sizes, b1[f.name], medianGBps);
    const speedupOverBf16 = b1.bf16 ? Object.fromEntries(loaded.map((f) => [f.name, round1(b1[f.name].speedupOverBaseline!, 2)])) : undefined;
    const speedupRanges = b1.bf16 ? Object.fromEntries(loaded.map((f) => [f.name, b1[f.name].speedupOverBaselineRange!.map((x) => round1(x, 2))])) : undefined;
    const result = {
      model: o.model ? { dir: modelDir } : { dir: modelDir, shape: o.shape, parameters: numParameters(shape), ...shape },
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', threads },
      /** The median round's probe, and every round's. */
      memoryBandwidthGBps: round1(medianGBps, 2),
      memoryBandwidthRoundsGBps: rounds.map((r) => round1(r.bandwidthGBps, 2)),
      batch1Rounds: o.rounds,
      short: o.short === true,
      quantizeLmHead: o.quantizeLmHead === true,
      kvCacheDtype: o.kvCacheDtype,
      decodeStepsAhead: o.stepsAhead,
      batchInvariant: o.batchInvariant,
      formats,
      batchInvariantOverDefault: o.batchInvariant === 'both' ? invariantRatios(formats) : undefined,
      /** Median over the rounds of bf16's step time over the format's in the same round, and the range. */
      batch1DecodeSpeedupOverBf16: speedupOverBf16,
      batch1DecodeSpeedupOverBf16Range: speedupRanges,
      target: TARGETS,
      /** Each target against the medians above (absent: a format this run did not measure). */
      targetMet: {
        bf16Batch1DecodePercentOfBandwidthFloor: b1.bf16 ? b1.bf16.percentOfFloor >= TARGETS.bf16Batch1DecodePercentOfBandwidthFloor : undefined,
        int8SpeedupOverBf16: speedupOverBf16?.int8 !== undefined ? speedupOverBf16.int8 >= TARGETS.int8SpeedupOverBf16 : undefined,
        int4SpeedupOverBf16: speedupOverBf16?.int4 !== undefined ? speedupOverBf16.int4 >= TARGETS.int4SpeedupOverBf16 : undefined,
      },
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } finally {
    for (const f of loaded) f.engine.dispose();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench:engine] error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
