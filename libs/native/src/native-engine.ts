// NativeEngine: the typed wrapper of the addon's Engine (one model shard on one device).
// Validates inputs in TypeScript so that the native layer only sees well-formed steps.
import { loadAddon, type RawEngine } from './addon';
import type { CommBackend, EngineOptions, ModelInfo, StepInput, StepOutput } from './types';

/**
 * Stages of a load, as the engine reports them: `weights` (checkpoint tensors mapped), `upload`
 * (layers moved to the device), `kv_cache` (KV cache layers allocated; on the CPU their pages are
 * committed then: 512 MiB took ~0.6 s on the development VM, docs/benchmarks.md).
 */
export type LoadStage = 'weights' | 'upload' | 'kv_cache';

/** What a stage's `done` counts, for logs and progress bars. */
export const LOAD_STAGE_UNITS: Readonly<Record<LoadStage, string>> = {
  weights: 'weight tensors mapped',
  upload: 'layers moved to the device',
  kv_cache: 'KV cache layers allocated',
};

/** The unit of `stage` (a stage this file does not know, from a newer engine: its own name). */
export function loadStageUnits(stage: string): string {
  return (LOAD_STAGE_UNITS as Record<string, string>)[stage] ?? stage;
}

export type LoadProgress = (stage: string, done: number, total: number) => void;

export class NativeEngine {
  private disposed = false;

  private constructor(
    private readonly raw: RawEngine,
    private readonly modelInfo: ModelInfo,
  ) {}

  /** Loads the model shard on a worker thread; rejects with the native error message. */
  static async load(options: EngineOptions, onProgress?: LoadProgress): Promise<NativeEngine> {
    validateOptions(options);
    const raw = await loadAddon().loadEngine(options, onProgress);
    return new NativeEngine(raw, raw.info());
  }

  /**
   * A communicator id for a tensor-parallel group (call on rank 0, pass to every rank). CPU
   * ranks: `shm` (one host) or `gloo` (several hosts; rank 0 runs the rendezvous store on `host`,
   * the address the other ranks reach it at).
   */
  static createCommId(device: 'cpu' | 'cuda' = 'cpu', backend: CommBackend = 'shm', host = ''): string {
    return loadAddon().createCommId(device, device === 'cuda' ? 'nccl' : backend, host);
  }

  info(): ModelInfo {
    return this.modelInfo;
  }

  /** Runs one step on a worker thread; a step called while others run queues behind them (call order). */
  step(input: StepInput): Promise<StepOutput> {
    if (this.disposed) return Promise.reject(new Error('the engine was disposed'));
    try {
      validateStep(input);
      return this.raw.step(input);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.raw.dispose();
  }
}

function isNonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function validateOptions(options: EngineOptions): void {
  if (!options || typeof options.modelDir !== 'string' || options.modelDir === '') {
    throw new Error('EngineOptions.modelDir must be a non-empty string');
  }
  for (const key of ['kvBlockSize', 'numKvBlocks', 'kvCacheBytes', 'numThreads', 'tpRank', 'tpSize'] as const) {
    const value = options[key];
    if (value !== undefined && !isNonNegativeInt(value)) throw new Error(`EngineOptions.${key} must be a non-negative integer`);
  }
}

function validateStep(input: StepInput): void {
  for (const seq of input.scheduled) {
    if (!isNonNegativeInt(seq.seqId)) throw new Error(`scheduled seqId must be a non-negative integer, got ${seq.seqId}`);
    if (!isNonNegativeInt(seq.startPos)) throw new Error(`sequence ${seq.seqId}: startPos must be a non-negative integer`);
    // -1: a placeholder for the token the engine sampled for it last step (async scheduling)
    if (!seq.tokens.every((t) => t === -1 || isNonNegativeInt(t))) throw new Error(`sequence ${seq.seqId}: tokens must be non-negative integers (or -1, a placeholder)`);
    if (!seq.newBlockIds.every(isNonNegativeInt)) throw new Error(`sequence ${seq.seqId}: newBlockIds must be non-negative integers`);
  }
  for (const seq of input.newSequences) {
    if (!isNonNegativeInt(seq.seqId)) throw new Error(`new seqId must be a non-negative integer, got ${seq.seqId}`);
  }
}
