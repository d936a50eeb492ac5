// Options shared by the commands that run the model (logits, generate, bench) and the
// executor they open: the engine in this process for tp 1, a group of worker processes (real
// gRPC, shared-memory, Gloo or NCCL collectives) for tp > 1 or --workers.
import { type Command, Option } from 'commander';
import { loadStageUnits, NativeEngine } from '../../../../libs/native/src/native-engine';
import type { StepExecutor } from '../../../../libs/native/src/step-executor';
import { KV_CACHE_DTYPE_HELP, KV_CACHE_DTYPES, QUANTIZATIONS, type KvCacheDtype, type Quantization, type WeightDType } from '../../../../libs/native/src/types';
import { parseIntOption } from '../options/parse';
import { WorkerGroup } from '../../../../libs/worker-group/src/worker-group';
import { ProgressBar } from '../progress-bar';
import { addWorkerGroupOptions, BATCH_INVARIANT_HELP, toWorkerGroupConfig, type ServerOptionValues } from '../../../coordinator/src/config/server-config';

export interface EngineCliOptions extends ServerOptionValues {
  model: string;
  dtype: WeightDType;
  quantization: Quantization;
  quantizeLmHead: boolean;
  batchInvariant: boolean;
  kvCacheDtype: KvCacheDtype;
  threads: number;
  tp: number;
  device: 'cpu' | 'cuda';
}

export interface ClosableExecutor extends StepExecutor {
  close(): Promise<void>;
}

export function addEngineOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--model <dir>', 'model directory (config.json + safetensors)')
    .addOption(new Option('--dtype <dtype>', 'weight dtype on the device').choices(['auto', 'f32', 'bf16', 'f16']).default('auto'))
    .addOption(new Option('--quantization <method>', 'weight-only quantization at load (int8 per channel, int4 g128, fp8 e4m3; CPU and CUDA)').choices(QUANTIZATIONS).default('none'))
    .option('--quantize-lm-head', 'quantize the lm_head too', false)
    .option('--batch-invariant', BATCH_INVARIANT_HELP, false)
    .addOption(new Option('--kv-cache-dtype <dtype>', KV_CACHE_DTYPE_HELP).choices(KV_CACHE_DTYPES).default('auto'))
    .addOption(new Option('--device <device>', 'backend').choices(['cpu', 'cuda']).default('cpu'))
    .option('--threads <n>', 'CPU threads per rank (0 = all cores)', parseIntOption('--threads', 0, 1024), 0)
    .option('--tp <n>', 'tensor-parallel degree', parseIntOption('--tp', 1, 64), 1)
    .addHelpText('after', '\nWith --workers, the ranks are running `tpserve worker` processes reached by address.');
}

/** The engine options plus the worker-group ones (--workers, --comm, --worker-tls-*). */
export function addEngineAndWorkerOptions(cmd: Command): Command {
  return addWorkerGroupOptions(addEngineOptions(cmd));
}

export async function openExecutor(opts: EngineCliOptions): Promise<ClosableExecutor> {
  const { workers, comm, remote } = toWorkerGroupConfig(opts);
  if (workers && opts.tp !== 1 && opts.tp !== workers.length) {
    throw new Error(`--tp ${opts.tp} disagrees with the ${workers.length} --workers addresses (leave --tp out)`);
  }
  if (opts.tp > 1 || workers) {
    const group = await WorkerGroup.start({
      modelDir: opts.model,
      device: opts.device,
      dtype: opts.dtype,
      quantization: opts.quantization,
      quantizeLmHead: opts.quantizeLmHead,
      batchInvariant: opts.batchInvariant,
      kvCacheDtype: opts.kvCacheDtype,
      tp: opts.tp,
      addresses: workers,
      comm,
      remote,
      numThreadsPerRank: opts.threads,
    });
    return { info: () => group.info(), step: (input) => group.step(input), close: () => group.close() };
  }
  const bars = new Map<string, ProgressBar>();
  const engine = await NativeEngine.load(
    {
      modelDir: opts.model,
      dtype: opts.dtype,
      quantization: opts.quantization,
      quantizeLmHead: opts.quantizeLmHead,
      batchInvariant: opts.batchInvariant,
      kvCacheDtype: opts.kvCacheDtype,
      device: opts.device,
      numThreads: opts.threads,
    },
    (stage, done, total) => {
      const bar = bars.get(stage) ?? new ProgressBar(loadStageUnits(stage));
      bars.set(stage, bar);
      bar.update(done, total);
      if (done === total) bar.finish();
    },
  );
  return {
    info: () => engine.info(),
    step: (input) => engine.step(input),
    close: async () => engine.dispose(),
  };
}
