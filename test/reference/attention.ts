// Causal grouped-query attention over one sequence, float64: query head h reads kv head
// floor(h / (numHeads / numKvHeads)); scores scaled by 1/sqrt(headDim).
import { dot, softmax } from './ops';

export interface AttentionShape {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
}

function head(row: Float64Array, h: number, headDim: number): Float64Array {
  return row.subarray(h * headDim, (h + 1) * headDim);
}

/**
 * q[t]: [numHeads * headDim] for the token at position t; k[t], v[t]: [numKvHeads * headDim].
 * Returns, for every t, the attention output [numHeads * headDim] over positions 0..t.
 */
export function causalAttention(
  q: Float64Array[],
  k: Float64Array[],
  v: Float64Array[],
  shape: AttentionShape,
): Float64Array[] {
  const { numHeads, numKvHeads, headDim } = shape;
  const groupSize = numHeads / numKvHeads;
  const scale = 1 / Math.sqrt(headDim);
  return q.map((qRow, t) => {
    const out = new Float64Array(numHeads * headDim);
    for (let h = 0; h < numHeads; h++) {
      const kvHead = Math.floor(h / groupSize);
      const qHead = head(qRow, h, headDim);
      const scores = new Float64Array(t + 1);
      for (let s = 0; s <= t; s++) scores[s] = dot(qHead, head(k[s], kvHead, headDim)) * scale;
      const probs = softmax(scores);
      for (let s = 0; s <= t; s++) {
        const vHead = head(v[s], kvHead, headDim);
        for (let d = 0; d < headDim; d++) out[h * headDim + d] += probs[s] * vHead[d];
      }
    }
    return out;
  });
}
