// config.json and generation_config.json of a tiny Seed-OSS checkpoint, field for field as the
// real Seed-OSS-36B config (fixtures/seed-oss/config.json), with tiny sizes.
// Tests: npx vitest run libs/tiny-model

import type { TinyModelOptions } from './tiny-model-options';

export interface SpecialTokenIds {
  bosTokenId: number;
  padTokenId: number;
  eosTokenId: number;
}

/** Embedding rows are the tokenizer size rounded up to a multiple of 16 (155121 -> 155136). */
export function paddedVocabSize(tokenizerSize: number, multiple = 16): number {
  return Math.ceil(tokenizerSize / multiple) * multiple;
}

export function buildSeedOssConfig(options: TinyModelOptions, vocabSize: number, ids: SpecialTokenIds): Record<string, unknown> {
  return {
    architectures: ['SeedOssForCausalLM'],
    model_type: 'seed_oss',
    hidden_size: options.hiddenSize,
    intermediate_size: options.intermediateSize,
    num_hidden_layers: options.numLayers,
    num_attention_heads: options.numHeads,
    num_key_value_heads: options.numKvHeads,
    head_dim: options.headDim,
    vocab_size: vocabSize,
    rope_theta: 10000000.0,
    rope_scaling: { rope_type: 'default' },
    max_position_embeddings: options.maxPositionEmbeddings,
    rms_norm_eps: 1e-6,
    hidden_act: 'silu',
    attention_bias: options.attentionBias,
    attention_out_bias: options.attentionOutBias,
    mlp_bias: options.mlpBias,
    tie_word_embeddings: false,
    attention_dropout: 0.1,
    residual_dropout: 0.1,
    bos_token_id: ids.bosTokenId,
    pad_token_id: ids.padTokenId,
    eos_token_id: ids.eosTokenId,
    initializer_range: 0.02,
    pretraining_tp: 1,
    use_cache: true,
    torch_dtype: options.dtype === 'bf16' ? 'bfloat16' : 'float32',
  };
}

/** Seed-OSS's recommended sampling (temperature 1.1, top_p 0.95). */
export function buildGenerationConfig(ids: SpecialTokenIds): Record<string, unknown> {
  return {
    bos_token_id: ids.bosTokenId,
    pad_token_id: ids.padTokenId,
    eos_token_id: ids.eosTokenId,
    temperature: 1.1,
    top_p: 0.95,
    do_sample: true,
  };
}
