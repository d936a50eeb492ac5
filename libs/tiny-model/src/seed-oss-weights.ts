// The tensors of a Seed-OSS (Llama/Qwen2-style) checkpoint under their Hugging Face names, in
// state_dict order, with shapes from the options, filled from a seeded PRNG: projections and
// embeddings ~ N(0, initializer_range=0.02), biases ~ N(0, 0.02) (non-zero so bias paths are
// exercised), RMSNorm weights ~ 1 + N(0, 0.05).
// Tests: npx vitest run libs/tiny-model

import type { SafetensorsDType } from '../../safetensors/src/dtypes';
import type { TensorToWrite } from '../../safetensors/src/safetensors-writer';
import { SeededRandom } from './seeded-random';
import type { TinyModelOptions } from './tiny-model-options';

export const INITIALIZER_RANGE = 0.02;
const NORM_JITTER = 0.05;

type InitKind = 'linear' | 'bias' | 'norm';

export interface TensorSpec {
  name: string;
  shape: number[];
  init: InitKind;
}

/** Every tensor name and shape, in Hugging Face state_dict order. */
export function seedOssTensorSpecs(options: TinyModelOptions, vocabSize: number): TensorSpec[] {
  const hidden = options.hiddenSize;
  const qRows = options.numHeads * options.headDim; // (heads * head_dim)
  const kvRows = options.numKvHeads * options.headDim; // (kv_heads * head_dim)
  const inter = options.intermediateSize;
  const specs: TensorSpec[] = [{ name: 'model.embed_tokens.weight', shape: [vocabSize, hidden], init: 'linear' }];
  for (let i = 0; i < options.numLayers; i++) {
    const p = `model.layers.${i}`;
    const linear = (name: string, rows: number, cols: number, hasBias: boolean): void => {
      specs.push({ name: `${p}.${name}.weight`, shape: [rows, cols], init: 'linear' });
      if (hasBias) specs.push({ name: `${p}.${name}.bias`, shape: [rows], init: 'bias' });
    };
    linear('self_attn.q_proj', qRows, hidden, options.attentionBias);
    linear('self_attn.k_proj', kvRows, hidden, options.attentionBias);
    linear('self_attn.v_proj', kvRows, hidden, options.attentionBias);
    linear('self_attn.o_proj', hidden, qRows, options.attentionOutBias);
    linear('mlp.gate_proj', inter, hidden, options.mlpBias);
    linear('mlp.up_proj', inter, hidden, options.mlpBias);
    linear('mlp.down_proj', hidden, inter, options.mlpBias);
    specs.push({ name: `${p}.input_layernorm.weight`, shape: [hidden], init: 'norm' });
    specs.push({ name: `${p}.post_attention_layernorm.weight`, shape: [hidden], init: 'norm' });
  }
  specs.push({ name: 'model.norm.weight', shape: [hidden], init: 'norm' });
  specs.push({ name: 'lm_head.weight', shape: [vocabSize, hidden], init: 'linear' });
  return specs;
}

/** Random values for every spec, drawn in order from one stream seeded by `seed`. */
export function generateSeedOssWeights(options: TinyModelOptions, vocabSize: number): TensorToWrite[] {
  const random = new SeededRandom(options.seed);
  const dtype: SafetensorsDType = options.dtype === 'bf16' ? 'BF16' : 'F32';
  return seedOssTensorSpecs(options, vocabSize).map((spec) => {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const data = spec.init === 'norm'
      ? random.normalArray(count, 1, NORM_JITTER)
      : random.normalArray(count, 0, INITIALIZER_RANGE);
    return { name: spec.name, dtype, shape: spec.shape, data };
  });
}
