// The typed surface of the native engine (tpserve_native.node): step inputs and outputs,
// sampling parameters and load options. Mirrors native/binding and proto/worker.proto.

export type WeightDType = 'auto' | 'f32' | 'bf16' | 'f16';
export type Device = 'cpu' | 'cuda';
/** Quantize-at-load of the linear layers ('none' keeps the checkpoint's weights). */
export type Quantization = 'none' | 'int8' | 'int4' | 'fp8';
export const QUANTIZATIONS: readonly Quantization[] = ['none', 'int8', 'int4', 'fp8'];
export type KvCacheDtype = 'auto' | 'f32' | 'bf16' | 'f16';
export const KV_CACHE_DTYPES: readonly KvCacheDtype[] = ['auto', 'f32', 'bf16', 'f16'];
/** --kv-cache-dtype's help, shared by serve and the engine commands. */
export const KV_CACHE_DTYPE_HELP = "KV cache element type: auto (the model's own: bf16 or f16 for a bf16 or f16 checkpoint, f32 for an f32 one; bf16 on CUDA), f32, bf16 or f16";
/** The collective library of CPU ranks: shared memory (one host) or Gloo over TCP (several hosts). */
export type CommBackend = 'shm' | 'gloo';

export interface EngineOptions {
  /** Model directory (config.json + safetensors). */
  modelDir: string;
  device?: Device;
  /** Convert weights on load ('auto' keeps the checkpoint's dtype). */
  dtype?: WeightDType;
  /** Weight-only quantization at load: int8 per output channel, int4 in groups of 128, fp8 e4m3 per channel (CPU and CUDA backends). */
  quantization?: Quantization;
  /** Quantize the lm_head too (with a quantization). */
  quantizeLmHead?: boolean;
  /**
   * KV cache element type. Absent (or 'auto'): the model's own, as vLLM's `--kv-cache-dtype
   * auto`: bf16 or f16 for a bf16 or f16 checkpoint (the dtype its weights are loaded in), f32 for
   * an f32 one; always bf16 on CUDA.
   */
  kvCacheDtype?: KvCacheDtype;
  kvBlockSize?: number;
  /** Number of KV blocks to allocate (takes precedence over kvCacheBytes). */
  numKvBlocks?: number;
  /** Memory budget for the KV cache in bytes, used when numKvBlocks is not given. */
  kvCacheBytes?: number;
  /** CPU threads for this engine (0 = all cores). */
  numThreads?: number;
  /**
   * Every token's logits are the same bits whatever else shares its step (CPU only): one kernel
   * per op at every batch size. A request resumed by recompute after a worker fault, or run
   * beside others, then gives exactly the text it gives alone; bf16 prefill runs at ~0.67x,
   * decode at ~0.8-0.9x (docs/benchmarks.md).
   */
  batchInvariant?: boolean;
  tpRank?: number;
  tpSize?: number;
  /** GPU index for device 'cuda'. */
  deviceIndex?: number;
  /** Communicator unique id from createCommId on rank 0 (needed when tpSize > 1). */
  commId?: string;
}

export interface SamplingParams {
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repetitionPenalty?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Per-request seed; the engine draws one when absent. */
  seed?: number;
  /** -1: none; 0: chosen token only; k: chosen token and the top k. */
  numTopLogprobs?: number;
  /** Token ids >= vocabLimit are never sampled (the tokenizer's size). */
  vocabLimit?: number;
}

export interface NewSequence {
  seqId: number;
  params: SamplingParams;
  /** Tokens at positions < numPromptTokens count as prompt for the repetition penalty. */
  numPromptTokens: number;
  /**
   * Optional tokens so far, so penalties see tokens served from the prefix cache: the prompt,
   * then for a recompute (preemption, recovery) the outputs already generated (positions >=
   * numPromptTokens count as generated).
   */
  promptTokens?: number[];
}

export type LogitsMode = 'none' | 'last' | 'all';

/**
 * A decode token sent before the step that samples it has replied (async scheduling): every rank
 * puts in the token it saw sampled for that sequence at that position (native kPlaceholderToken;
 * the scheduler's twin is PLACEHOLDER_TOKEN of libs/scheduler/src/scheduler-output.ts).
 */
export const PLACEHOLDER_TOKEN = -1;

export interface ScheduledSequence {
  seqId: number;
  /** Tokens to compute this step: a prefill chunk or one decode token (or PLACEHOLDER_TOKEN). */
  tokens: number[];
  /** Position of tokens[0]; all earlier positions are already in the KV cache. */
  startPos: number;
  /** KV block ids appended to this sequence's block table since the last step. */
  newBlockIds: number[];
  /** Sample a token after the last position (false for a non-final prefill chunk). */
  sample: boolean;
  /** Also return raw logits (last position or every position of this chunk). */
  logits?: LogitsMode;
  /** Structured outputs: bit i of word w allows id 32 * w + i; [ceil(vocab / 32)]. Absent: any id. */
  tokenBitmask?: Uint32Array;
}

export interface StepInput {
  stepId: number;
  newSequences: NewSequence[];
  scheduled: ScheduledSequence[];
  /** Sequences to forget (finished, aborted or preempted). */
  finished: number[];
  /**
   * Async scheduling: rank 0 broadcasts this step's sampled ids to every rank, so the next step
   * may be sent before this one's reply with PLACEHOLDER_TOKEN (-1) for them.
   */
  shareSamples?: boolean;
  /**
   * The reply may be held back while two or more steps sent after this one are still queued, and
   * arrive together with a later one (up to 16 replies at once). For callers that keep many steps in
   * flight and need no reply at once (generate): the JS thread then wakes once per several steps,
   * and each wake-up costs the engine more than its CPU time. Honoured by an in-process engine;
   * steps sent to worker processes reply one by one.
   */
  holdReply?: boolean;
}

export interface SampledToken {
  seqId: number;
  token: number;
  logprob: number;
  /** [tokenId, logprob] best first. */
  topLogprobs: Array<[number, number]>;
}

export interface SequenceLogits {
  seqId: number;
  numRows: number;
  /** [numRows, vocabSize] row-major. */
  data: Float32Array;
}

export interface StepTimings {
  forwardUs: number;
  collectiveUs: number;
  samplingUs: number;
  /** How long the engine sat idle before this step, µs (the addon measures it; a group reports its slowest rank). */
  waitUs?: number;
}

export interface StepOutput {
  stepId: number;
  samples: SampledToken[];
  logits: SequenceLogits[];
  timings: StepTimings;
}

export interface ModelInfo {
  architecture: string;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  maxPositionEmbeddings: number;
  eosTokenIds: number[];
  weightBytes: number;
  /** Weight bytes one decode token streams on this rank (all but the embedding table's other rows): the bandwidth floor's numerator. */
  decodeBytesPerToken: number;
  numKvBlocks: number;
  kvBlockSize: number;
  device: string;
  tpRank: number;
  tpSize: number;
}
