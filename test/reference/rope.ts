// Rotary position embedding as in transformers: inv_freq = 1/theta^(2i/head_dim) (with llama3
// scaling when configured), applied rotate-half (NeoX) style over the full head_dim.
import type { Llama3RopeScaling } from './reference-config';

/** [headDim / 2] frequencies, as transformers' _compute_default / _compute_llama3_parameters. */
export function ropeInvFreq(headDim: number, theta: number, llama3?: Llama3RopeScaling): Float64Array {
  const invFreq = new Float64Array(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) invFreq[i] = 1 / Math.pow(theta, (2 * i) / headDim);
  if (!llama3) return invFreq;
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPosition } = llama3;
  const lowFreqWavelen = originalMaxPosition / lowFreqFactor;
  const highFreqWavelen = originalMaxPosition / highFreqFactor;
  return invFreq.map((freq) => {
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highFreqWavelen) return freq; // high frequency: kept
    if (wavelen > lowFreqWavelen) return freq / factor; // low frequency: scaled
    // medium: interpolate between scaled and unscaled
    const smooth = (originalMaxPosition / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (freq / factor) + smooth * freq;
  });
}

/**
 * Rotates one head vector x [headDim] for position `pos`:
 * out = x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1], cos/sin = [f, f] repeated.
 */
export function applyRope(x: Float64Array, pos: number, invFreq: Float64Array): Float64Array {
  const half = invFreq.length;
  if (x.length !== 2 * half) throw new Error(`rope: head of ${x.length} with ${half} frequencies`);
  const out = new Float64Array(x.length);
  for (let i = 0; i < half; i++) {
    const angle = pos * invFreq[i];
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    out[i] = x[i] * cos - x[i + half] * sin;
    out[i + half] = x[i + half] * cos + x[i] * sin;
  }
  return out;
}
