// Engine benchmark (`npm run bench:engine`): the engine in-process on this machine, on a random
// ~0.5B bf16 model (written once under .tpserve/bench-model-0p5b). Prints JSON on stdout: decode
// tokens/s at batch 1, 8 and 32, prefill tokens/s, the memory read bandwidth measured in the same
// run, and batch-1 decode as a percentage of the bandwidth floor (weight bytes streamed per token
// / bandwidth). Progress on stderr.
//   node dist/apps/cli/src/bench/engine-bench.js [--threads N] [--decode-steps 16] [--prefill-tokens 512]
import { Command } from 'commander';
import { cpus } from 'node:os';
import * as path from 'node:path';
import { findRepoRoot, loadAddon } from '../../../../libs/native/src/addon';
import { NativeEngine } from '../../../../libs/native/src/native-engine';
import { parseIntOption } from '../options/parse';
import { BatchRunner } from './batch-runner';
import { BENCH_MODEL_0P5B, ensureBenchModel, numParameters } from './bench-model';

interface Options {
  threads: number;
  decodeSteps: number;
  prefillTokens: number;
  context: number;
  model?: string;
}

const log = (line: string): void => void process.stderr.write(`[bench:engine] ${line}\n`);
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const o = new Command()
    .option('--threads <n>', 'engine threads (0 = all cores)', parseIntOption('--threads', 0, 1024), 0)
    .option('--decode-steps <n>', 'timed decode steps per batch size', parseIntOption('--decode-steps', 1, 10_000), 16)
    .option('--prefill-tokens <n>', 'prompt length of the prefill measurement', parseIntOption('--prefill-tokens', 1, 32_768), 512)
    .option('--context <n>', 'prompt length before the decode measurements', parseIntOption('--context', 1, 32_768), 128)
    .option('--model <dir>', 'benchmark this model instead of the generated 0.5B one')
    .parse(process.argv)
    .opts<Options>();
  const threads = o.threads || cpus().length;
  const modelDir = o.model ?? ensureBenchModel(path.join(findRepoRoot(), '.tpserve', 'bench-model-0p5b'), BENCH_MODEL_0P5B, log);

  log(`measuring memory read bandwidth with ${threads} thread(s)`);
  const bandwidthGBps = loadAddon().measureBandwidth(1 << 30, threads);
  log(`read bandwidth ${round(bandwidthGBps)} GB/s; loading ${modelDir}`);
  const maxBatch = 32;
  const blocksPerSeq = Math.ceil((Math.max(o.prefillTokens, o.context + o.decodeSteps + 8) + 8) / 16);
  const engine = await NativeEngine.load({ modelDir, device: 'cpu', numThreads: threads, numKvBlocks: maxBatch * blocksPerSeq + 8 });
  const info = engine.info();
  const runner = new BatchRunner(engine);
  await runner.warmup();

  const decode: Record<string, { tokensPerS: number; stepMs: number }> = {};
  for (const batch of [1, 8, 32]) {
    log(`decode at batch ${batch}: prefill ${batch} x ${o.context} tokens, then ${o.decodeSteps} timed steps`);
    await runner.timedPrefill(batch, o.context);
    await runner.timedDecode(1);
    const ms = await runner.timedDecode(o.decodeSteps);
    await runner.finishAll();
    const stepMs = ms / o.decodeSteps;
    decode[`batch${batch}`] = { tokensPerS: round((batch * 1000) / stepMs), stepMs: round(stepMs, 2) };
  }
  log(`prefill: one sequence of ${o.prefillTokens} tokens`);
  const prefillMs = Math.min(
    await runner.timedPrefill(1, o.prefillTokens).finally(() => runner.finishAll()),
    await runner.timedPrefill(1, o.prefillTokens).finally(() => runner.finishAll()),
  );
  engine.dispose();

  // Decode streams every weight once per step except the embedding table (one row per token).
  const embeddingBytes = info.vocabSize * info.hiddenSize * 2;
  const streamedBytes = info.weightBytes - embeddingBytes;
  const floorMs = (streamedBytes / (bandwidthGBps * 1e9)) * 1000;
  const result = {
    model: { dir: modelDir, parameters: numParameters(BENCH_MODEL_0P5B), weightBytes: info.weightBytes, streamedBytesPerStep: streamedBytes },
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', threads, backend: info.device },
    memoryBandwidthGBps: round(bandwidthGBps, 2),
    decode,
    prefill: { tokens: o.prefillTokens, tokensPerS: round((o.prefillTokens * 1000) / prefillMs), stepMs: round(prefillMs, 1) },
    bandwidthFloorMsPerToken: round(floorMs, 2),
    batch1DecodePercentOfBandwidthFloor: round((floorMs / decode.batch1.stepMs) * 100, 1),
    target: { batch1DecodePercentOfBandwidthFloor: 60 },
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench:engine] error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
