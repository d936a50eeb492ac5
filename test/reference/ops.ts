// Plain float64 building blocks of the reference decoder: weight lookup, linear, RMSNorm,
// SiLU, softmax. Written for clarity, not speed (test shapes are tiny).

export interface RefTensor {
  shape: number[];
  data: Float64Array;
}

/** Returns the named weight; throws when it is absent. */
export type WeightLookup = (name: string) => RefTensor;

/** y = W x (+ b), W: [out, in] row-major, x: [in]. */
export function linear(x: Float64Array, weight: RefTensor, bias?: RefTensor): Float64Array {
  const [numOut, numIn] = weight.shape;
  if (weight.shape.length !== 2 || numIn !== x.length) {
    throw new Error(`linear: weight [${weight.shape}] does not take an input of ${x.length}`);
  }
  const y = new Float64Array(numOut);
  for (let o = 0; o < numOut; o++) {
    let sum = 0;
    const row = o * numIn;
    for (let i = 0; i < numIn; i++) sum += weight.data[row + i] * x[i];
    y[o] = bias ? sum + bias.data[o] : sum;
  }
  return y;
}

/** x * 1/sqrt(mean(x^2) + eps) * w */
export function rmsNorm(x: Float64Array, weight: RefTensor, eps: number): Float64Array {
  let sumSquares = 0;
  for (const v of x) sumSquares += v * v;
  const scale = 1 / Math.sqrt(sumSquares / x.length + eps);
  return x.map((v, i) => v * scale * weight.data[i]);
}

export function silu(v: number): number {
  return v / (1 + Math.exp(-v));
}

export function add(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v + b[i]);
}

/** Numerically stable softmax. */
export function softmax(scores: Float64Array): Float64Array {
  let max = -Infinity;
  for (const s of scores) max = Math.max(max, s);
  const exps = scores.map((s) => Math.exp(s - max));
  let sum = 0;
  for (const e of exps) sum += e;
  return exps.map((e) => e / sum);
}

export function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}
