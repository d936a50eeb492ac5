// Random checkpoints of odd shapes for the model tests: builds a Hugging Face config.json and
// seeded random weights, writes them as safetensors (f32 or bf16, optionally sharded), and hands
// back a float64 lookup of exactly the values written (bf16-rounded for bf16) for the reference.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bf16ArrayToFloat32, toBf16Array, writeShardedSafetensors, type TensorToWrite } from '../../libs/safetensors/src';
import type { RefTensor, WeightLookup } from '../reference/ops';
import { parseReferenceConfig, type RawConfig } from '../reference/reference-config';

export type Architecture = 'LlamaForCausalLM' | 'Qwen2ForCausalLM' | 'SeedOssForCausalLM';

export interface CheckpointSpec {
  architecture: Architecture;
  dtype: 'f32' | 'bf16';
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads?: number;
  /** Written to config.json only when given. */
  headDim?: number;
  attentionBias?: boolean;
  attentionOutBias?: boolean;
  mlpBias?: boolean;
  tieWordEmbeddings?: boolean;
  ropeTheta?: number;
  ropeScaling?: Record<string, unknown>;
  /** 1 (default): model.safetensors; more: model-0000i-of-0000n + index. */
  numShards?: number;
  seed: number;
}

export interface RandomCheckpoint {
  dir: string;
  config: RawConfig;
  weights: WeightLookup;
  tensors: TensorToWrite[];
}

const MODEL_TYPES: Record<Architecture, string> = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  SeedOssForCausalLM: 'seed_oss',
};

/** The config.json a spec describes (keys the architecture does not know are left out). */
export function buildHfConfig(spec: CheckpointSpec): RawConfig {
  const config: RawConfig = {
    architectures: [spec.architecture],
    model_type: MODEL_TYPES[spec.architecture],
    vocab_size: spec.vocabSize,
    hidden_size: spec.hiddenSize,
    intermediate_size: spec.intermediateSize,
    num_hidden_layers: spec.numLayers,
    num_attention_heads: spec.numHeads,
    num_key_value_heads: spec.numKvHeads ?? spec.numHeads,
    max_position_embeddings: 4096,
    rms_norm_eps: 1e-6,
    rope_theta: spec.ropeTheta ?? 10000,
    hidden_act: 'silu',
    tie_word_embeddings: spec.tieWordEmbeddings ?? false,
    bos_token_id: 0,
    eos_token_id: 1,
    torch_dtype: spec.dtype === 'bf16' ? 'bfloat16' : 'float32',
  };
  if (spec.headDim !== undefined) config.head_dim = spec.headDim;
  if (spec.ropeScaling !== undefined) config.rope_scaling = spec.ropeScaling;
  if (spec.architecture !== 'Qwen2ForCausalLM') {
    config.attention_bias = spec.attentionBias ?? false;
    config.mlp_bias = spec.mlpBias ?? false;
  }
  if (spec.architecture === 'SeedOssForCausalLM') config.attention_out_bias = spec.attentionOutBias ?? false;
  return config;
}

import { mulberry32 as seededRandom } from '../../libs/tiny-model/src/seeded-random';
export { seededRandom };

/** `count` token ids drawn uniformly from [0, vocabSize). */
export function randomTokens(count: number, vocabSize: number, random: () => number): number[] {
  return Array.from({ length: count }, () => Math.floor(random() * vocabSize));
}

/** Every tensor name → shape and value range ([center - half, center + half]). */
function tensorPlan(config: RawConfig): Array<{ name: string; shape: number[]; center: number; half: number }> {
  const c = parseReferenceConfig(config);
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  // uniform(-sqrt(3/fanIn), +) keeps activations near unit variance, so logits stay O(1)
  const matrix = (name: string, rows: number, cols: number) => ({ name, shape: [rows, cols], center: 0, half: Math.sqrt(3 / cols) });
  const vector = (name: string, size: number, center = 0, half = 0.5) => ({ name, shape: [size], center, half });
  const plan = [matrix('model.embed_tokens.weight', c.vocabSize, c.hiddenSize), vector('model.norm.weight', c.hiddenSize, 1, 0.2)];
  if (!c.tieWordEmbeddings) plan.push(matrix('lm_head.weight', c.vocabSize, c.hiddenSize));
  for (let layer = 0; layer < c.numLayers; layer++) {
    const p = `model.layers.${layer}`;
    plan.push(vector(`${p}.input_layernorm.weight`, c.hiddenSize, 1, 0.2));
    plan.push(vector(`${p}.post_attention_layernorm.weight`, c.hiddenSize, 1, 0.2));
    plan.push(matrix(`${p}.self_attn.q_proj.weight`, qDim, c.hiddenSize));
    plan.push(matrix(`${p}.self_attn.k_proj.weight`, kvDim, c.hiddenSize));
    plan.push(matrix(`${p}.self_attn.v_proj.weight`, kvDim, c.hiddenSize));
    plan.push(matrix(`${p}.self_attn.o_proj.weight`, c.hiddenSize, qDim));
    plan.push(matrix(`${p}.mlp.gate_proj.weight`, c.intermediateSize, c.hiddenSize));
    plan.push(matrix(`${p}.mlp.up_proj.weight`, c.intermediateSize, c.hiddenSize));
    plan.push(matrix(`${p}.mlp.down_proj.weight`, c.hiddenSize, c.intermediateSize));
    if (c.hasQkvBias) {
      plan.push(vector(`${p}.self_attn.q_proj.bias`, qDim), vector(`${p}.self_attn.k_proj.bias`, kvDim));
      plan.push(vector(`${p}.self_attn.v_proj.bias`, kvDim));
    }
    if (c.hasOutBias) plan.push(vector(`${p}.self_attn.o_proj.bias`, c.hiddenSize));
    if (c.hasMlpBias) {
      plan.push(vector(`${p}.mlp.gate_proj.bias`, c.intermediateSize), vector(`${p}.mlp.up_proj.bias`, c.intermediateSize));
      plan.push(vector(`${p}.mlp.down_proj.bias`, c.hiddenSize));
    }
  }
  return plan;
}

/** Seeded random tensors for `config`, already rounded to what `dtype` stores. */
export function randomTensors(config: RawConfig, dtype: 'f32' | 'bf16', seed: number): TensorToWrite[] {
  const random = seededRandom(seed);
  return tensorPlan(config).map(({ name, shape, center, half }) => {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = center + (2 * random() - 1) * half;
    // bf16: the reference must see the rounded values the engine reads
    const data = dtype === 'bf16' ? bf16ArrayToFloat32(toBf16Array(values)) : values;
    return { name, dtype: dtype === 'bf16' ? 'BF16' : 'F32', shape, data };
  });
}

/** A float64 lookup over tensors; throws naming a missing one. */
export function lookupOf(tensors: readonly TensorToWrite[]): WeightLookup {
  const byName = new Map<string, RefTensor>(tensors.map((t) => [t.name, { shape: t.shape, data: Float64Array.from(t.data) }]));
  return (name) => {
    const found = byName.get(name);
    if (!found) throw new Error(`random checkpoint: no tensor ${name}`);
    return found;
  };
}

export function writeConfig(dir: string, config: RawConfig): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
}

/** Writes config.json and the safetensors of a random checkpoint into `dir`. */
export function writeRandomCheckpoint(dir: string, spec: CheckpointSpec): RandomCheckpoint {
  const config = buildHfConfig(spec);
  const tensors = randomTensors(config, spec.dtype, spec.seed);
  writeConfig(dir, config);
  writeShardedSafetensors(dir, tensors, spec.numShards ?? 1, { format: 'pt' });
  return { dir, config, weights: lookupOf(tensors), tensors };
}

/** A fresh temporary directory (removed by the caller with removeDir). */
export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), `tpserve-${prefix}-`));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
