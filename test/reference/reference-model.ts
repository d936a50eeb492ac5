// The float64 reference forward pass of a Llama / Qwen2 / Seed-OSS decoder, as in Hugging Face
// transformers. referenceLogits(config.json object, weight lookup, tokens) → logits[T][vocab].
// Independent of the engine on purpose: no shared code, no float32, no KV cache.
import { causalAttention } from './attention';
import { add, linear, rmsNorm, silu, type RefTensor, type WeightLookup } from './ops';
import { parseReferenceConfig, type RawConfig, type ReferenceConfig } from './reference-config';
import { applyRope, ropeInvFreq } from './rope';

export type { RefTensor, WeightLookup } from './ops';

function embed(tokens: number[], table: RefTensor, vocabSize: number): Float64Array[] {
  const hidden = table.shape[1];
  return tokens.map((token) => {
    if (!Number.isInteger(token) || token < 0 || token >= vocabSize) {
      throw new Error(`reference: token ${token} outside vocab ${vocabSize}`);
    }
    return Float64Array.from(table.data.subarray(token * hidden, (token + 1) * hidden));
  });
}

/** Applies RoPE to every head of a [numHeads * headDim] row. */
function ropeHeads(row: Float64Array, numHeads: number, pos: number, invFreq: Float64Array): Float64Array {
  const headDim = row.length / numHeads;
  const out = new Float64Array(row.length);
  for (let h = 0; h < numHeads; h++) {
    out.set(applyRope(row.subarray(h * headDim, (h + 1) * headDim), pos, invFreq), h * headDim);
  }
  return out;
}

function attentionBlock(c: ReferenceConfig, w: WeightLookup, p: string, x: Float64Array[], invFreq: Float64Array) {
  const bias = (name: string) => (c.hasQkvBias ? w(`${p}.self_attn.${name}.bias`) : undefined);
  const normed = x.map((row) => rmsNorm(row, w(`${p}.input_layernorm.weight`), c.rmsNormEps));
  // token t sits at position t: the reference always computes the whole sequence
  const q = normed.map((row, t) => ropeHeads(linear(row, w(`${p}.self_attn.q_proj.weight`), bias('q_proj')), c.numHeads, t, invFreq));
  const k = normed.map((row, t) => ropeHeads(linear(row, w(`${p}.self_attn.k_proj.weight`), bias('k_proj')), c.numKvHeads, t, invFreq));
  const v = normed.map((row) => linear(row, w(`${p}.self_attn.v_proj.weight`), bias('v_proj')));
  const attended = causalAttention(q, k, v, c);
  const outBias = c.hasOutBias ? w(`${p}.self_attn.o_proj.bias`) : undefined;
  return attended.map((row) => linear(row, w(`${p}.self_attn.o_proj.weight`), outBias));
}

function mlpBlock(c: ReferenceConfig, w: WeightLookup, p: string, x: Float64Array): Float64Array {
  const bias = (name: string) => (c.hasMlpBias ? w(`${p}.mlp.${name}.bias`) : undefined);
  const normed = rmsNorm(x, w(`${p}.post_attention_layernorm.weight`), c.rmsNormEps);
  const gate = linear(normed, w(`${p}.mlp.gate_proj.weight`), bias('gate_proj'));
  const up = linear(normed, w(`${p}.mlp.up_proj.weight`), bias('up_proj'));
  const act = gate.map((g, i) => silu(g) * up[i]);
  return linear(act, w(`${p}.mlp.down_proj.weight`), bias('down_proj'));
}

/** Final hidden states (after the last RMSNorm), [T][hidden]. */
export function referenceHidden(raw: RawConfig, weights: WeightLookup, tokens: number[]): Float64Array[] {
  const c = parseReferenceConfig(raw);
  const invFreq = ropeInvFreq(c.headDim, c.ropeTheta, c.llama3Scaling);
  let x = embed(tokens, weights('model.embed_tokens.weight'), c.vocabSize);
  for (let layer = 0; layer < c.numLayers; layer++) {
    const p = `model.layers.${layer}`;
    const attnOut = attentionBlock(c, weights, p, x, invFreq);
    x = x.map((row, t) => add(row, attnOut[t]));
    x = x.map((row) => add(row, mlpBlock(c, weights, p, row)));
  }
  return x.map((row) => rmsNorm(row, weights('model.norm.weight'), c.rmsNormEps));
}

/** Logits for every position, [T][vocab]. */
export function referenceLogits(raw: RawConfig, weights: WeightLookup, tokens: number[]): Float64Array[] {
  const c = parseReferenceConfig(raw);
  const head = weights(c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
  return referenceHidden(raw, weights, tokens).map((row) => linear(row, head));
}
