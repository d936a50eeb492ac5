// Engine benchmark (`npm run bench:engine`): the engine in-process on this machine, on a random
// bf16 model written once under .tpserve/ (--shape 246m: the Llama shape of issue 11; 0p5b: the
// ~0.5B Seed-OSS shape). For each weight format asked (bf16 = none, int8, int4, fp8, quantized at
// load) it measures, in ONE run: decode tokens/s at batch 1, 8 and 32, prefill tokens/s, weight
// bytes streamed per decode step, and batch-1 decode as a percentage of the bandwidth floor
// (those bytes / the memory read bandwidth measured at the start of the same run), plus each
// format's batch-1 speed-up over bf16. JSON on stdout, progress on stderr.
//   node dist/apps/cli/src/bench/engine-bench.js [--shape 246m] [--quantizations none,int8,int4,fp8]
//     [--quantize-lm-head] [--threads N] [--decode-steps 16] [--prefill-tokens 512] [--context 128]
//     [--kv-cache-dtype auto|f32|bf16|f16] [--steps-ahead 2] [--batch-invariant off|on|both] [--short]
// Decode steps go out before the reply of the step they follow (--steps-ahead, as the server's
// async scheduling sends them); batch 1 is also timed synchronously (batch1Synchronous) to show
// the per-step host round trip that hides. --batch-invariant both runs each format a second time
// with EngineOptions.batchInvariant ("<format> batch-invariant") and reports the ratios.
import { Command } from 'commander';
import { cpus } from 'node:os';
import * as path from 'node:path';
import { findRepoRoot, loadAddon } from '../../../../libs/native/src/addon';
import { NativeEngine } from '../../../../libs/native/src/native-engine';
import { QUANTIZATIONS, type Quantization } from '../../../../libs/native/src/types';
import { parseIntOption } from '../options/parse';
import { BatchRunner } from './batch-runner';
import { BENCH_MODEL_0P5B, BENCH_MODEL_246M, ensureBenchModel, numParameters, type BenchModelShape } from './bench-model';

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
  kvCacheDtype: string;
  stepsAhead: number;
  batchInvariant: string;
}

const BATCH_INVARIANT_MODES = ['off', 'on', 'both'] as const;

const KV_CACHE_DTYPES = ['auto', 'f32', 'bf16', 'f16'] as const;
type KvCacheDtype = Exclude<(typeof KV_CACHE_DTYPES)[number], 'auto'>;

const SHAPES: Record<string, BenchModelShape> = { '246m': BENCH_MODEL_246M, '0p5b': BENCH_MODEL_0P5B };
const log = (line: string): void => void process.stderr.write(`[bench:engine] ${line}\n`);
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

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

async function benchOne(modelDir: string, quantization: Quantization, lmHead: boolean, threads: number, bandwidthGBps: number, z: Sizes, kvCacheDtype: KvCacheDtype | undefined, batchInvariant: boolean) {
  const maxBatch = Math.max(...z.batches);
  const blocksPerSeq = Math.ceil((Math.max(z.prefillTokens, z.context + 2 * z.decodeSteps + 8) + 8) / 16);
  log(`${quantization}: loading ${modelDir}`);
  const engine = await NativeEngine.load({ modelDir, device: 'cpu', numThreads: threads, numKvBlocks: maxBatch * blocksPerSeq + 8, quantization, quantizeLmHead: lmHead && quantization !== 'none', kvCacheDtype, batchInvariant });
  const info = engine.info();
  const runner = new BatchRunner(engine);
  try {
    await runner.warmup();
    const decode: Record<string, { tokensPerS: number; stepMs: number }> = {};
    for (const batch of z.batches) {
      log(`${quantization}: decode at batch ${batch}: prefill ${batch} x ${z.context} tokens, then ${z.decodeSteps} timed steps`);
      await runner.timedPrefill(batch, z.context);
      await runner.timedDecode(1);
      const time = async (stepsAhead: number): Promise<{ tokensPerS: number; stepMs: number }> => {
        const stepMs = (await runner.timedDecode(z.decodeSteps, stepsAhead)) / z.decodeSteps;
        return { tokensPerS: round((batch * 1000) / stepMs), stepMs: round(stepMs, 2) };
      };
      decode[`batch${batch}`] = await time(z.stepsAhead);
      if (batch === 1) decode.batch1Synchronous = await time(0);
      await runner.finishAll();
    }
    log(`${quantization}: prefill of one sequence of ${z.prefillTokens} tokens`);
    const prefillMs = Math.min(
      await runner.timedPrefill(1, z.prefillTokens).finally(() => runner.finishAll()),
      await runner.timedPrefill(1, z.prefillTokens).finally(() => runner.finishAll()),
    );
    // Decode streams every weight once per step except the (bf16) embedding table: one row per token.
    const streamedBytes = info.weightBytes - info.vocabSize * info.hiddenSize * 2;
    const floorMs = (streamedBytes / (bandwidthGBps * 1e9)) * 1000;
    return {
      weightBytes: info.weightBytes,
      bytesPerToken: streamedBytes,
      decode,
      prefill: { tokens: z.prefillTokens, tokensPerS: round((z.prefillTokens * 1000) / prefillMs), stepMs: round(prefillMs, 1) },
      bandwidthFloorMsPerToken: round(floorMs, 2),
      batch1DecodePercentOfBandwidthFloor: round((floorMs / decode.batch1.stepMs) * 100, 1),
      backend: info.device,
    };
  } finally {
    engine.dispose();
  }
}

/** Each "<format> batch-invariant" entry's speeds over its format's default run (1 = no cost). */
function invariantRatios(formats: Record<string, Awaited<ReturnType<typeof benchOne>>>) {
  const out: Record<string, Record<string, number>> = {};
  for (const [name, inv] of Object.entries(formats)) {
    const base = formats[name.replace(/ batch-invariant$/, '')];
    if (!name.endsWith(' batch-invariant') || base === undefined) continue;
    const ratios: Record<string, number> = { prefill: round(inv.prefill.tokensPerS / base.prefill.tokensPerS, 2) };
    for (const [b, d] of Object.entries(inv.decode)) ratios[`decode ${b}`] = round(d.tokensPerS / base.decode[b].tokensPerS, 2);
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
    .option('--kv-cache-dtype <dtype>', `KV cache dtype: ${KV_CACHE_DTYPES.join(', ')} (auto: the engine's default)`, 'auto')
    .option('--batch-invariant <mode>', `${BATCH_INVARIANT_MODES.join(', ')}: the engine's batch-invariant mode, or each format both ways side by side`, 'off')
    .option('--steps-ahead <n>', 'decode steps sent before the reply they follow (0 = wait for each reply; the server sends 2)', parseIntOption('--steps-ahead', 0, 8), 2)
    .parse(process.argv)
    .opts<Options>();
  const shape = SHAPES[o.shape];
  if (!shape) throw new Error(`--shape: '${o.shape}' is not one of ${Object.keys(SHAPES).join(', ')}`);
  const quantizations = parseQuantizations(o.quantizations);
  if (!(KV_CACHE_DTYPES as readonly string[]).includes(o.kvCacheDtype)) throw new Error(`--kv-cache-dtype: '${o.kvCacheDtype}' is not one of ${KV_CACHE_DTYPES.join(', ')}`);
  const kvCacheDtype = o.kvCacheDtype === 'auto' ? undefined : (o.kvCacheDtype as KvCacheDtype);
  if (!(BATCH_INVARIANT_MODES as readonly string[]).includes(o.batchInvariant)) throw new Error(`--batch-invariant: '${o.batchInvariant}' is not one of ${BATCH_INVARIANT_MODES.join(', ')}`);
  const invariantModes = o.batchInvariant === 'both' ? [false, true] : [o.batchInvariant === 'on'];
  const sizes: Sizes = o.short
    ? { batches: [1, 8], decodeSteps: 4, prefillTokens: 64, context: 32, stepsAhead: o.stepsAhead }
    : { batches: [1, 8, 32], decodeSteps: o.decodeSteps, prefillTokens: o.prefillTokens, context: o.context, stepsAhead: o.stepsAhead };
  const threads = o.threads || cpus().length;
  const modelDir = o.model ?? ensureBenchModel(path.join(findRepoRoot(), '.tpserve', `bench-model-${o.shape}`), shape, log);

  log(`measuring memory read bandwidth with ${threads} thread(s)`);
  const bandwidthGBps = loadAddon().measureBandwidth(1 << 30, threads);
  log(`read bandwidth ${round(bandwidthGBps)} GB/s`);
  const formats: Record<string, Awaited<ReturnType<typeof benchOne>>> = {};
  for (const q of quantizations) {
    for (const invariant of invariantModes) {
      const name = `${q === 'none' ? 'bf16' : q}${invariant && o.batchInvariant === 'both' ? ' batch-invariant' : ''}`;
      formats[name] = await benchOne(modelDir, q, o.quantizeLmHead === true, threads, bandwidthGBps, sizes, kvCacheDtype, invariant);
    }
  }
  const bf16 = formats.bf16;
  const speedupOverBf16 = bf16
    ? Object.fromEntries(Object.entries(formats).map(([name, f]) => [name, round(f.decode.batch1.tokensPerS / bf16.decode.batch1.tokensPerS, 2)]))
    : undefined;
  const result = {
    model: o.model ? { dir: modelDir } : { dir: modelDir, shape: o.shape, parameters: numParameters(shape), ...shape },
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', threads },
    memoryBandwidthGBps: round(bandwidthGBps, 2),
    short: o.short === true,
    quantizeLmHead: o.quantizeLmHead === true,
    kvCacheDtype: o.kvCacheDtype,
    decodeStepsAhead: o.stepsAhead,
    batchInvariant: o.batchInvariant,
    formats,
    batchInvariantOverDefault: o.batchInvariant === 'both' ? invariantRatios(formats) : undefined,
    batch1DecodeSpeedupOverBf16: speedupOverBf16,
    target: { bf16Batch1DecodePercentOfBandwidthFloor: 80, int8SpeedupOverBf16: 1.8, int4SpeedupOverBf16: 3 },
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench:engine] error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
