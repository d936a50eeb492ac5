// The decoder's shape read from a Hugging Face config.json object, with transformers' defaults
// for Llama, Qwen2 and Seed-OSS. Used only by the float64 reference (test/reference/).

export type RawConfig = Record<string, unknown>;

export interface Llama3RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPosition: number;
}

export interface ReferenceConfig {
  architecture: string;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** Present only when rope_scaling.rope_type (or .type) is 'llama3'. */
  llama3Scaling?: Llama3RopeScaling;
  /** Bias on q, k and v. */
  hasQkvBias: boolean;
  /** Bias on o_proj. */
  hasOutBias: boolean;
  /** Bias on gate, up and down. */
  hasMlpBias: boolean;
  tieWordEmbeddings: boolean;
}

function num(raw: RawConfig, key: string, fallback?: number): number {
  const value = raw[key];
  if (typeof value === 'number') return value;
  if (value === undefined && fallback !== undefined) return fallback;
  throw new Error(`config.json: ${key} missing or not a number`);
}

function bool(raw: RawConfig, key: string, fallback: boolean): boolean {
  const value = raw[key];
  return typeof value === 'boolean' ? value : fallback;
}

function parseRopeScaling(raw: RawConfig): Llama3RopeScaling | undefined {
  const scaling = raw['rope_scaling'] as RawConfig | null | undefined;
  if (!scaling) return undefined;
  const ropeType = scaling['rope_type'] ?? scaling['type'] ?? 'default';
  if (ropeType === 'default') return undefined;
  if (ropeType !== 'llama3') throw new Error(`reference: rope_type ${String(ropeType)} not implemented`);
  return {
    factor: num(scaling, 'factor'),
    lowFreqFactor: num(scaling, 'low_freq_factor'),
    highFreqFactor: num(scaling, 'high_freq_factor'),
    originalMaxPosition: num(scaling, 'original_max_position_embeddings'),
  };
}

const SUPPORTED = ['LlamaForCausalLM', 'Qwen2ForCausalLM', 'SeedOssForCausalLM'];

export function parseReferenceConfig(raw: RawConfig): ReferenceConfig {
  const architecture = String((raw['architectures'] as unknown[] | undefined)?.[0]);
  if (!SUPPORTED.includes(architecture)) throw new Error(`reference: architecture ${architecture} not implemented`);
  const hiddenSize = num(raw, 'hidden_size');
  const numHeads = num(raw, 'num_attention_heads');
  const isQwen2 = architecture === 'Qwen2ForCausalLM';
  const isSeedOss = architecture === 'SeedOssForCausalLM';
  // SeedOssConfig defaults attention_bias to true; Llama's to false
  const attentionBias = bool(raw, 'attention_bias', isSeedOss);
  return {
    architecture,
    vocabSize: num(raw, 'vocab_size'),
    hiddenSize,
    intermediateSize: num(raw, 'intermediate_size'),
    numLayers: num(raw, 'num_hidden_layers'),
    numHeads,
    numKvHeads: num(raw, 'num_key_value_heads', numHeads),
    // explicit head_dim wins (Seed-OSS: 128 != 5120 / 80)
    headDim: typeof raw['head_dim'] === 'number' ? (raw['head_dim'] as number) : hiddenSize / numHeads,
    rmsNormEps: num(raw, 'rms_norm_eps', 1e-6),
    ropeTheta: num(raw, 'rope_theta', 10000),
    llama3Scaling: parseRopeScaling(raw),
    // Qwen2: q/k/v always biased, o_proj and MLP never (transformers' modeling_qwen2)
    hasQkvBias: isQwen2 ? true : attentionBias,
    // Seed-OSS has its own flag; Llama's o_proj follows attention_bias (modeling_llama)
    hasOutBias: isQwen2 ? false : isSeedOss ? bool(raw, 'attention_out_bias', false) : attentionBias,
    hasMlpBias: isQwen2 ? false : bool(raw, 'mlp_bias', false),
    tieWordEmbeddings: bool(raw, 'tie_word_embeddings', false),
  };
}
