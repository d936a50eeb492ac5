// Weights of a scripted checkpoint, so that greedy decoding walks given token chains.
// Every layer's o_proj and down_proj is 0, so the residual stream stays embed[t] whatever the
// attention and MLP compute; the final norm weight is 1 and every embed row has rms 1, so the
// final RMSNorm is ~identity; lm_head row s = (logitScale / hidden) * sum of embed[t] over the
// tokens t whose successor is s. The rows of those predecessor tokens are orthogonalised, so
// logits(t) = logitScale at successor(t) and ~0 elsewhere (up to bf16 rounding).
// checkGreedyWalk recomputes embed -> rmsnorm -> lm_head in float64 from the stored values.
// Tests: npx vitest run libs/tiny-model

import { bf16BitsToFloat, floatToBf16Bits } from '../../safetensors/src/float-conversions';
import type { TensorToWrite } from '../../safetensors/src/safetensors-writer';

/** The logit of the scripted successor; others stay near 0, so sampling at temperature ~1 follows the chain too. */
export const DEFAULT_LOGIT_SCALE = 40;
/** Required gap between the successor's logit and the runner-up, as a fraction of the successor's. */
export const MIN_MARGIN = 0.2;
export const RMS_NORM_EPS = 1e-6;
const ZEROED = /\.(o_proj|down_proj)\.(weight|bias)$/;

function tensor(tensors: readonly TensorToWrite[], name: string): TensorToWrite {
  const found = tensors.find((t) => t.name === name);
  if (found === undefined) throw new Error(`scripted weights: no tensor ${name}`);
  return found;
}

function scaleTo(row: Float64Array, norm: number): void {
  let sumSquares = 0;
  for (const x of row) sumSquares += x * x;
  const length = Math.sqrt(sumSquares);
  for (let i = 0; i < row.length; i++) row[i] *= norm / length;
}

/**
 * Rewrites the generated tensors in place. `successors` maps each token of a chain (trigger
 * included, eos excluded) to the token greedy decoding must produce after it.
 */
export function applyScriptedWeights(
  tensors: readonly TensorToWrite[], hiddenSize: number, vocabSize: number,
  successors: ReadonlyMap<number, number>, logitScale = DEFAULT_LOGIT_SCALE,
): void {
  const predecessors = [...successors.keys()].sort((a, b) => a - b);
  if (predecessors.length > hiddenSize) {
    throw new Error(`scripted weights: ${predecessors.length} chain tokens need --hidden >= ${predecessors.length} (got ${hiddenSize})`);
  }
  for (const t of tensors) if (ZEROED.test(t.name)) t.data.fill(0); // layers add nothing to the residual stream
  tensor(tensors, 'model.norm.weight').data.fill(1);

  // embed rows: the generated random rows, rescaled to rms 1; predecessor rows orthogonalised first
  const embed = tensor(tensors, 'model.embed_tokens.weight').data; // (vocab, hidden)
  const row = (id: number): Float64Array => Float64Array.from(embed.subarray(id * hiddenSize, (id + 1) * hiddenSize));
  const isPredecessor = new Set(predecessors);
  const basis: Float64Array[] = [];
  const rows = new Map<number, Float64Array>();
  for (const id of predecessors) {
    const v = row(id);
    for (const b of basis) { // modified Gram-Schmidt against the unit rows placed so far
      let dot = 0;
      for (let i = 0; i < hiddenSize; i++) dot += v[i] * b[i];
      for (let i = 0; i < hiddenSize; i++) v[i] -= dot * b[i];
    }
    scaleTo(v, 1);
    basis.push(Float64Array.from(v));
    scaleTo(v, Math.sqrt(hiddenSize));
    rows.set(id, v);
  }
  for (let id = 0; id < vocabSize; id++) {
    const v = rows.get(id) ?? row(id);
    if (!isPredecessor.has(id)) scaleTo(v, Math.sqrt(hiddenSize));
    embed.set(v, id * hiddenSize);
  }

  const lmHead = tensor(tensors, 'lm_head.weight').data; // (vocab, hidden)
  lmHead.fill(0);
  const alpha = logitScale / hiddenSize;
  for (const [t, s] of successors) {
    const v = rows.get(t)!;
    for (let i = 0; i < hiddenSize; i++) lmHead[s * hiddenSize + i] += alpha * v[i];
  }
}

/** The values a dtype stores (bf16: round to nearest even via float32, as PyTorch). */
export function roundedCopy(values: ArrayLike<number>, dtype: 'bf16' | 'f32'): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = dtype === 'bf16' ? bf16BitsToFloat(floatToBf16Bits(values[i])) : Math.fround(values[i]);
  return out;
}

/** The tensors the logits depend on once the layers are no-ops, as stored. */
export interface ScriptedLogitWeights {
  embed: ArrayLike<number>; // (vocab, hidden)
  normWeight: ArrayLike<number>; // (hidden)
  lmHead: ArrayLike<number>; // (vocab, hidden)
  hiddenSize: number;
  vocabSize: number;
}

export interface GreedyStep {
  token: number;
  expected: number;
  argmax: number;
  /** (logit[expected] - best other logit) / logit[expected]. */
  margin: number;
}

/** Logits over the whole vocabulary after `token` when the layers are no-ops: lm_head · rmsnorm(embed[token]), in float64. */
export function scriptedLogits(w: ScriptedLogitWeights, token: number, eps = RMS_NORM_EPS): Float64Array {
  const h = w.hiddenSize;
  const n = new Float64Array(h);
  let sumSquares = 0;
  for (let i = 0; i < h; i++) sumSquares += w.embed[token * h + i] ** 2;
  const inv = 1 / Math.sqrt(sumSquares / h + eps);
  for (let i = 0; i < h; i++) n[i] = w.embed[token * h + i] * inv * w.normWeight[i];
  const logits = new Float64Array(w.vocabSize);
  for (let s = 0; s < w.vocabSize; s++) {
    let logit = 0;
    for (let i = 0; i < h; i++) logit += w.lmHead[s * h + i] * n[i];
    logits[s] = logit;
  }
  return logits;
}

/** For each token, the argmax of its logits and the margin of its expected successor. */
export function checkGreedyWalk(w: ScriptedLogitWeights, successors: ReadonlyMap<number, number>): GreedyStep[] {
  return [...successors].map(([token, expected]) => {
    const logits = scriptedLogits(w, token);
    let argmax = 0;
    let bestOther = -Infinity;
    logits.forEach((logit, s) => {
      if (logit > logits[argmax]) argmax = s;
      if (s !== expected) bestOther = Math.max(bestOther, logit);
    });
    return { token, expected, argmax, margin: (logits[expected] - bestOther) / Math.abs(logits[expected]) };
  });
}

/** Throws, listing the tokens, unless every step's argmax is its successor by more than minMargin; returns the smallest margin. */
export function assertGreedyWalk(w: ScriptedLogitWeights, successors: ReadonlyMap<number, number>, minMargin = MIN_MARGIN): number {
  const steps = checkGreedyWalk(w, successors);
  const bad = steps.filter((s) => s.argmax !== s.expected || !(s.margin > minMargin));
  if (bad.length > 0) {
    const list = bad.slice(0, 5).map((s) => `token ${s.token}: expected ${s.expected}, argmax ${s.argmax}, margin ${s.margin.toFixed(3)}`).join('; ');
    throw new Error(`scripted weights: greedy decoding would leave the chain (${bad.length} tokens; ${list}); try a larger --hidden`);
  }
  return Math.min(...steps.map((s) => s.margin));
}
