// The benchmark checkpoints, random bf16, written once under .tpserve/ and reused: a ~0.5B
// Seed-OSS shape (hidden 1024, 32 layers, 16 q / 4 kv heads of 64, intermediate 4096, vocab 32000,
// q/k/v biases) and the 246M Llama shape of issue 11 (16 layers, intermediate 2816, no biases). Written shard by shard (a few layers at a time) so that memory stays at
// about one shard's worth of float32 values, not the whole model's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SAFETENSORS_INDEX_FILE, shardFileName, writeSafetensors, type TensorToWrite } from '../../../../libs/safetensors/src';

export interface BenchModelShape {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  /** q/k/v biases (Seed-OSS); false: the Llama layout. */
  attentionBias: boolean;
}

export const BENCH_MODEL_0P5B: BenchModelShape = {
  vocabSize: 32000, hiddenSize: 1024, numLayers: 32, numHeads: 16, numKvHeads: 4, headDim: 64, intermediateSize: 4096, attentionBias: true,
};

export const BENCH_MODEL_246M: BenchModelShape = {
  vocabSize: 32000, hiddenSize: 1024, numLayers: 16, numHeads: 16, numKvHeads: 4, headDim: 64, intermediateSize: 2816, attentionBias: false,
};

const LAYERS_PER_SHARD = 4;
const COMPLETE_MARKER = '.complete';

/** Number of parameters of the shape. */
export function numParameters(s: BenchModelShape): number {
  const q = s.numHeads * s.headDim;
  const kv = s.numKvHeads * s.headDim;
  const biases = s.attentionBias ? q + 2 * kv : 0;
  const perLayer = 2 * s.hiddenSize * q + 2 * s.hiddenSize * kv + biases + 3 * s.hiddenSize * s.intermediateSize + 2 * s.hiddenSize;
  return s.numLayers * perLayer + 2 * s.vocabSize * s.hiddenSize + s.hiddenSize;
}

/** xorshift32 uniform in (-scale, scale): fast enough for half a billion values. */
function randomFill(values: Float32Array, state: { x: number }, center: number, scale: number): Float32Array {
  let x = state.x;
  for (let i = 0; i < values.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    values[i] = center + ((x >>> 0) / 4294967296 * 2 - 1) * scale;
  }
  state.x = x;
  return values;
}

/** Writes the checkpoint into `dir` unless a complete one is already there. Returns `dir`. */
export function ensureBenchModel(dir: string, shape: BenchModelShape, log: (line: string) => void): string {
  if (fs.existsSync(path.join(dir, COMPLETE_MARKER))) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const s = shape;
  const config = {
    architectures: ['SeedOssForCausalLM'], model_type: 'seed_oss', vocab_size: s.vocabSize, hidden_size: s.hiddenSize,
    intermediate_size: s.intermediateSize, num_hidden_layers: s.numLayers, num_attention_heads: s.numHeads,
    num_key_value_heads: s.numKvHeads, head_dim: s.headDim, max_position_embeddings: 4096, rms_norm_eps: 1e-6,
    rope_theta: 1e7, hidden_act: 'silu', tie_word_embeddings: false, attention_bias: s.attentionBias, attention_out_bias: false,
    mlp_bias: false, bos_token_id: 0, eos_token_id: 1, torch_dtype: 'bfloat16',
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');

  const state = { x: 0x2545f491 };
  // std 0.02 as in transformers' initializer_range: uniform(-a, a) with a = 0.02 * sqrt(3)
  const weight = (name: string, shape: number[]): TensorToWrite => ({
    name, dtype: 'BF16', shape, data: randomFill(new Float32Array(shape[0] * (shape[1] ?? 1)), state, 0, 0.02 * Math.sqrt(3)),
  });
  const norm = (name: string): TensorToWrite => ({
    name, dtype: 'BF16', shape: [s.hiddenSize], data: randomFill(new Float32Array(s.hiddenSize), state, 1, 0.05),
  });
  const q = s.numHeads * s.headDim;
  const kv = s.numKvHeads * s.headDim;
  const layerTensors = (i: number): TensorToWrite[] => {
    const p = `model.layers.${i}`;
    const biases = s.attentionBias
      ? [weight(`${p}.self_attn.q_proj.bias`, [q]), weight(`${p}.self_attn.k_proj.bias`, [kv]), weight(`${p}.self_attn.v_proj.bias`, [kv])]
      : [];
    return [
      ...biases,
      weight(`${p}.self_attn.q_proj.weight`, [q, s.hiddenSize]),
      weight(`${p}.self_attn.k_proj.weight`, [kv, s.hiddenSize]),
      weight(`${p}.self_attn.v_proj.weight`, [kv, s.hiddenSize]),
      weight(`${p}.self_attn.o_proj.weight`, [s.hiddenSize, q]),
      weight(`${p}.mlp.gate_proj.weight`, [s.intermediateSize, s.hiddenSize]),
      weight(`${p}.mlp.up_proj.weight`, [s.intermediateSize, s.hiddenSize]),
      weight(`${p}.mlp.down_proj.weight`, [s.hiddenSize, s.intermediateSize]),
      norm(`${p}.input_layernorm.weight`), norm(`${p}.post_attention_layernorm.weight`),
    ];
  };
  // shard plan: embeddings, groups of layers, final norm + lm_head; each built only when written
  const plan: Array<() => TensorToWrite[]> = [() => [weight('model.embed_tokens.weight', [s.vocabSize, s.hiddenSize])]];
  for (let first = 0; first < s.numLayers; first += LAYERS_PER_SHARD) {
    const last = Math.min(s.numLayers, first + LAYERS_PER_SHARD);
    plan.push(() => Array.from({ length: last - first }, (_, k) => layerTensors(first + k)).flat());
  }
  plan.push(() => [norm('model.norm.weight'), weight('lm_head.weight', [s.vocabSize, s.hiddenSize])]);

  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  plan.forEach((build, index) => {
    const file = shardFileName(index, plan.length);
    log(`writing ${file}`);
    const tensors = build();
    totalSize += writeSafetensors(path.join(dir, file), tensors, { format: 'pt' });
    for (const t of tensors) weightMap[t.name] = file;
  });
  const sortedMap = Object.fromEntries(Object.keys(weightMap).sort().map((k) => [k, weightMap[k]]));
  fs.writeFileSync(
    path.join(dir, SAFETENSORS_INDEX_FILE),
    JSON.stringify({ metadata: { total_size: totalSize }, weight_map: sortedMap }, null, 2) + '\n',
  );
  fs.writeFileSync(path.join(dir, COMPLETE_MARKER), `${numParameters(s)} parameters\n`);
  return dir;
}
