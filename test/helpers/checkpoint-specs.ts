// The odd-shaped random checkpoints the model tests run on: explicit head_dim != hidden/heads,
// GQA and MQA, several layers, bf16 and f32, with and without biases, tied embeddings, llama3
// RoPE scaling, sharded files, vocab sizes that divide by nothing useful.
import type { CheckpointSpec } from './random-checkpoint';

export const ODD_SPECS: Record<string, CheckpointSpec> = {
  // Seed-OSS-shaped: head_dim 16 != 48/6, 6 heads over 2 kv heads, q/k/v bias, theta 1e7
  'seed-gqa-f32': {
    architecture: 'SeedOssForCausalLM', dtype: 'f32', vocabSize: 257, hiddenSize: 48, intermediateSize: 72,
    numLayers: 3, numHeads: 6, numKvHeads: 2, headDim: 16, attentionBias: true, ropeTheta: 1e7, seed: 11,
  },
  'seed-gqa-bf16': {
    architecture: 'SeedOssForCausalLM', dtype: 'bf16', vocabSize: 257, hiddenSize: 48, intermediateSize: 72,
    numLayers: 3, numHeads: 6, numKvHeads: 2, headDim: 16, attentionBias: true, ropeTheta: 1e7, seed: 12,
  },
  // every Seed-OSS bias on, two shards
  'seed-all-bias-bf16-sharded': {
    architecture: 'SeedOssForCausalLM', dtype: 'bf16', vocabSize: 263, hiddenSize: 40, intermediateSize: 56,
    numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 12, attentionBias: true, attentionOutBias: true,
    mlpBias: true, numShards: 2, seed: 13,
  },
  // Llama: no bias, tied embeddings, llama3 scaling that touches low, medium and high frequencies
  'llama-tied-llama3-f32': {
    architecture: 'LlamaForCausalLM', dtype: 'f32', vocabSize: 257, hiddenSize: 40, intermediateSize: 60,
    numLayers: 2, numHeads: 5, numKvHeads: 5, tieWordEmbeddings: true, seed: 14,
    ropeScaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 },
  },
  // Llama with attention_bias (q, k, v and o_proj in transformers) and mlp_bias; MQA
  'llama-bias-mqa-bf16': {
    architecture: 'LlamaForCausalLM', dtype: 'bf16', vocabSize: 311, hiddenSize: 36, intermediateSize: 50,
    numLayers: 2, numHeads: 4, numKvHeads: 1, headDim: 10, attentionBias: true, mlpBias: true, seed: 15,
  },
  // Qwen2: q/k/v bias without a config key, tied, theta 1e6
  'qwen2-tied-f32': {
    architecture: 'Qwen2ForCausalLM', dtype: 'f32', vocabSize: 257, hiddenSize: 32, intermediateSize: 44,
    numLayers: 2, numHeads: 4, numKvHeads: 2, tieWordEmbeddings: true, ropeTheta: 1e6, seed: 16,
  },
};

/** Names of the f32 specs (tight tolerances apply only to them). */
export const F32_SPEC_NAMES = Object.keys(ODD_SPECS).filter((name) => ODD_SPECS[name].dtype === 'f32');
