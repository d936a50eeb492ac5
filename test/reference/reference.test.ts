// Checks the float64 reference decoder itself against values computed by hand (and, for the
// whole 1-layer toy, by an independent scalar script): RMSNorm, RoPE, llama3 frequencies,
// causal GQA attention, config defaults. Run: npx vitest run test/reference
import { describe, expect, it } from 'vitest';
import { causalAttention } from './attention';
import { rmsNorm, type RefTensor } from './ops';
import { parseReferenceConfig } from './reference-config';
import { referenceLogits } from './reference-model';
import { applyRope, ropeInvFreq } from './rope';

const t = (shape: number[], values: number[]): RefTensor => ({ shape, data: Float64Array.from(values) });
const f64 = (...values: number[]) => Float64Array.from(values);

function expectClose(actual: ArrayLike<number>, expected: number[], digits = 12): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((value, i) => expect(actual[i]).toBeCloseTo(value, digits));
}

describe('reference ops', () => {
  it('RMSNorm: [3, 4] * [1, 2] with eps 0 is [3, 8] / sqrt(12.5)', () => {
    expectClose(rmsNorm(f64(3, 4), t([2], [1, 2]), 0), [0.848528137423857, 2.262741699796952]);
  });

  it('RoPE rotates [1, 0] by the angle pos * 1 when head_dim is 2', () => {
    const invFreq = ropeInvFreq(2, 10000);
    expectClose(invFreq, [1]);
    expectClose(applyRope(f64(1, 0), 0, invFreq), [1, 0]);
    expectClose(applyRope(f64(1, 0), 3, invFreq), [Math.cos(3), Math.sin(3)]);
  });

  it('RoPE pairs dimension i with i + head_dim/2 (rotate-half, not interleaved)', () => {
    // head_dim 4, theta 100: frequencies [1, 1/10]
    const invFreq = ropeInvFreq(4, 100);
    expectClose(invFreq, [1, 0.1]);
    const [c1, s1, c2, s2] = [Math.cos(1), Math.sin(1), Math.cos(0.1), Math.sin(0.1)];
    expectClose(applyRope(f64(1, 2, 3, 4), 1, invFreq), [1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 3 * c1 + 1 * s1, 4 * c2 + 2 * s2]);
  });

  it('llama3 scaling keeps high, divides low and interpolates medium frequencies', () => {
    // head_dim 6, theta 1e4: wavelengths 6.28, 135.4, 2916; original context 200 → bounds 50 and 200
    const scaling = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPosition: 200 };
    expectClose(ropeInvFreq(6, 10000), [1, 0.0464158883361278, 0.00215443469003188]);
    expectClose(ropeInvFreq(6, 10000, scaling), [1, 0.012265872889067105, 0.00026930433625398553]);
  });

  it('attention of 2 tokens: token 0 sees only itself, token 1 a softmax over both', () => {
    const shape = { numHeads: 1, numKvHeads: 1, headDim: 2 };
    const out = causalAttention([f64(5, 5), f64(1, 2)], [f64(1, 0), f64(0, 1)], [f64(1, 0), f64(0, 3)], shape);
    expectClose(out[0], [1, 0]);
    // scores [1, 2] / sqrt(2) → probabilities [0.3302, 0.6698]
    expectClose(out[1], [0.33023845067334306, 2.0092846479799706]);
  });

  it('GQA: query heads 0,1 read kv head 0 and heads 2,3 read kv head 1', () => {
    const shape = { numHeads: 4, numKvHeads: 2, headDim: 1 };
    const out = causalAttention([f64(1, 1, 1, 1)], [f64(1, 1)], [f64(10, 20)], shape);
    expectClose(out[0], [10, 10, 20, 20]);
  });
});

describe('reference config', () => {
  it('takes head_dim from config.json over hidden / heads (Seed-OSS)', () => {
    const base = { architectures: ['SeedOssForCausalLM'], hidden_size: 5120, num_attention_heads: 80, vocab_size: 8, intermediate_size: 8, num_hidden_layers: 1 };
    expect(parseReferenceConfig({ ...base, head_dim: 128 }).headDim).toBe(128);
    expect(parseReferenceConfig(base).headDim).toBe(64);
    expect(parseReferenceConfig(base).numKvHeads).toBe(80);
  });

  it('applies each architecture’s bias rules', () => {
    const base = { hidden_size: 4, num_attention_heads: 2, vocab_size: 8, intermediate_size: 8, num_hidden_layers: 1 };
    const qwen = parseReferenceConfig({ ...base, architectures: ['Qwen2ForCausalLM'] });
    expect([qwen.hasQkvBias, qwen.hasOutBias, qwen.hasMlpBias]).toEqual([true, false, false]);
    const llama = parseReferenceConfig({ ...base, architectures: ['LlamaForCausalLM'], attention_bias: true, mlp_bias: true });
    expect([llama.hasQkvBias, llama.hasOutBias, llama.hasMlpBias]).toEqual([true, true, true]);
    const seed = parseReferenceConfig({ ...base, architectures: ['SeedOssForCausalLM'], attention_bias: true });
    expect([seed.hasQkvBias, seed.hasOutBias, seed.hasMlpBias]).toEqual([true, false, false]);
    // SeedOssConfig's attention_bias defaults to true
    expect(parseReferenceConfig({ ...base, architectures: ['SeedOssForCausalLM'] }).hasQkvBias).toBe(true);
  });

  it('refuses architectures it does not implement', () => {
    const base = { hidden_size: 4, num_attention_heads: 2, vocab_size: 8, intermediate_size: 8, num_hidden_layers: 1 };
    expect(() => parseReferenceConfig({ ...base, architectures: ['GPT2LMHeadModel'] })).toThrow(/GPT2LMHeadModel/);
    expect(() => parseReferenceConfig(base)).toThrow(/architecture/);
  });
});

// hidden 2, 1 head of dim 2, intermediate 3, vocab 3, q/k/v bias (Seed-OSS style)
const toyConfig = {
  architectures: ['SeedOssForCausalLM'], hidden_size: 2, intermediate_size: 3, num_hidden_layers: 1,
  num_attention_heads: 1, num_key_value_heads: 1, head_dim: 2, vocab_size: 3, rms_norm_eps: 1e-6,
  rope_theta: 10000, attention_bias: true, attention_out_bias: false, mlp_bias: false, tie_word_embeddings: false,
};
const toyWeights: Record<string, RefTensor> = {
  'model.embed_tokens.weight': t([3, 2], [0.5, -1, 1, 2, -0.3, 0.8]),
  'model.layers.0.input_layernorm.weight': t([2], [1, 0.5]),
  'model.layers.0.self_attn.q_proj.weight': t([2, 2], [1, 0.5, -0.5, 1]),
  'model.layers.0.self_attn.k_proj.weight': t([2, 2], [0.2, 1, 1, -0.3]),
  'model.layers.0.self_attn.v_proj.weight': t([2, 2], [1, 2, 0.5, -1]),
  'model.layers.0.self_attn.q_proj.bias': t([2], [0.1, -0.2]),
  'model.layers.0.self_attn.k_proj.bias': t([2], [0, 0.1]),
  'model.layers.0.self_attn.v_proj.bias': t([2], [0.2, 0]),
  'model.layers.0.self_attn.o_proj.weight': t([2, 2], [0.3, -0.2, 0.1, 0.4]),
  'model.layers.0.post_attention_layernorm.weight': t([2], [0.9, 1.1]),
  'model.layers.0.mlp.gate_proj.weight': t([3, 2], [1, -1, 0.5, 0.5, -0.2, 0.3]),
  'model.layers.0.mlp.up_proj.weight': t([3, 2], [0.3, 0.3, 1, 0, 0, 1]),
  'model.layers.0.mlp.down_proj.weight': t([2, 3], [0.2, -0.1, 0.4, 0.5, 0.3, -0.2]),
  'model.norm.weight': t([2], [1.2, 0.8]),
  'lm_head.weight': t([3, 2], [1, 0, 0, 1, 0.7, -0.7]),
};
const lookup = (name: string): RefTensor => {
  const found = toyWeights[name];
  if (!found) throw new Error(`toy: no tensor ${name}`);
  return found;
};

describe('reference decoder on a 1-layer, hidden-2 toy', () => {
  it('matches a hand-written scalar computation of both positions', () => {
    const logits = referenceLogits(toyConfig, lookup, [2, 0]);
    expectClose(logits[0], [0.7828345466005402, 1.0038040861678508, -0.15467867769711738]);
    expectClose(logits[1], [0.9324538902851971, -0.9452871559109893, 1.3144187323373304]);
  });

  it('is causal: a later token does not change earlier logits', () => {
    const short = referenceLogits(toyConfig, lookup, [2]);
    expectClose(short[0], Array.from(referenceLogits(toyConfig, lookup, [2, 1])[0]));
  });

  it('with zero attention and MLP outputs, logits are lm_head · norm(embed(token))', () => {
    const zeroed = (name: string): RefTensor =>
      /o_proj|down_proj/.test(name) ? t(lookup(name).shape, [0, 0, 0, 0, 0, 0]) : lookup(name);
    // embed[1] = [1, 2]: rms = sqrt(2.5), norm → [1.2, 1.6] / sqrt(2.5)
    const [a, b] = [1.2 / Math.sqrt(2.5 + 1e-6), 1.6 / Math.sqrt(2.5 + 1e-6)];
    expectClose(referenceLogits(toyConfig, zeroed, [1])[0], [a, b, 0.7 * a - 0.7 * b]);
  });

  it('uses embed_tokens as lm_head when tie_word_embeddings is set', () => {
    const tied = referenceLogits({ ...toyConfig, tie_word_embeddings: true }, (name) => {
      if (name === 'lm_head.weight') throw new Error('tied model read lm_head');
      return lookup(name);
    }, [1]);
    expect(tied[0].length).toBe(3);
  });

  it('names a missing bias tensor', () => {
    expect(() => referenceLogits({ ...toyConfig, attention_out_bias: true }, lookup, [0])).toThrow(/o_proj\.bias/);
  });
});
