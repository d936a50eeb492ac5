// Options of `tpserve make-tiny-model`: defaults for a tiny Seed-OSS-shaped model, and validation
// that turns bad values into one clear Error before anything is written.
// Tests: npx vitest run libs/tiny-model

export type TinyModelDType = 'bf16' | 'f32';

export interface TinyModelShape {
  numLayers: number;
  hiddenSize: number;
  numHeads: number;
  numKvHeads: number;
  /** Explicit, as in Seed-OSS: deliberately not hiddenSize / numHeads by default. */
  headDim: number;
  intermediateSize: number;
}

export interface TinyModelOptions extends TinyModelShape {
  outDir: string;
  seed: number;
  dtype: TinyModelDType;
  numShards: number;
  /** A tokenizer.json (or tokenizer.json.br) to use instead of the generated one. */
  tokenizerFile?: string;
  maxPositionEmbeddings: number;
  /** Embedding / lm_head rows (default: the tokenizer's size padded up); at least the tokenizer's size. */
  vocabSize?: number;
  /** Seed-OSS has bias on q/k/v only; these exist to exercise other layouts. */
  attentionBias: boolean;
  attentionOutBias: boolean;
  mlpBias: boolean;
}

export const DEFAULT_TINY_MODEL_OPTIONS: Omit<TinyModelOptions, 'outDir'> = {
  seed: 0,
  dtype: 'bf16',
  numShards: 2,
  numLayers: 2,
  hiddenSize: 64,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 32,
  intermediateSize: 128,
  maxPositionEmbeddings: 4096,
  attentionBias: true,
  attentionOutBias: false,
  mlpBias: false,
};

const POSITIVE_FIELDS: ReadonlyArray<[keyof TinyModelOptions, string]> = [
  ['numLayers', '--layers'], ['hiddenSize', '--hidden'], ['numHeads', '--heads'], ['numKvHeads', '--kv-heads'],
  ['headDim', '--head-dim'], ['intermediateSize', '--intermediate'], ['numShards', '--shards'],
  ['maxPositionEmbeddings', 'max_position_embeddings'],
];

/** Fills defaults and validates; throws an Error naming the offending flag. */
export function resolveTinyModelOptions(partial: Partial<TinyModelOptions>): TinyModelOptions {
  if (partial.outDir === undefined || partial.outDir.trim() === '') throw new Error('make-tiny-model: --out DIR is required');
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const options: TinyModelOptions = { ...DEFAULT_TINY_MODEL_OPTIONS, ...defined, outDir: partial.outDir };
  for (const [field, flag] of POSITIVE_FIELDS) {
    const value = options[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new Error(`make-tiny-model: ${flag} must be a positive integer (got ${String(value)})`);
    }
  }
  if (options.vocabSize !== undefined && (!Number.isSafeInteger(options.vocabSize) || options.vocabSize < 1)) {
    throw new Error(`make-tiny-model: --vocab must be a positive integer (got ${String(options.vocabSize)})`);
  }
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) {
    throw new Error(`make-tiny-model: --seed must be a non-negative integer (got ${options.seed})`);
  }
  if (options.dtype !== 'bf16' && options.dtype !== 'f32') {
    throw new Error(`make-tiny-model: --dtype must be bf16 or f32 (got ${String(options.dtype)})`);
  }
  if (options.numHeads % options.numKvHeads !== 0) {
    throw new Error(`make-tiny-model: --heads (${options.numHeads}) must be a multiple of --kv-heads (${options.numKvHeads})`);
  }
  if (options.headDim % 2 !== 0) throw new Error(`make-tiny-model: --head-dim must be even for rotary embeddings (got ${options.headDim})`);
  return options;
}

/** Parses an integer flag value strictly ("12", not "12abc" or "1.5"). */
export function parseIntegerFlag(flag: string, text: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new Error(`make-tiny-model: ${flag} expects an integer (got '${text}')`);
  return Number(text);
}
