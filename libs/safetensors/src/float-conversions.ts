// Scalar and array conversions between JS numbers and the 16-bit float formats bf16 and f16.
// bf16 rounds to nearest even exactly as PyTorch's c10::BFloat16 (via float32, NaN -> 0x7fc0);
// f16 rounds to nearest even as IEEE 754 / numpy, with subnormals, overflow to ±inf and NaN kept.
// Tests: npx vitest run libs/safetensors

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** float32 bit pattern of `x` (rounded to float32 first). */
function f32Bits(x: number): number {
  f32Scratch[0] = x;
  return u32Scratch[0];
}

function f32FromBits(bits: number): number {
  u32Scratch[0] = bits >>> 0;
  return f32Scratch[0];
}

/** Rounds a float32 bit pattern to bf16 bits (round to nearest, ties to even). */
function bf16FromF32Bits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return 0x7fc0; // NaN: PyTorch's canonical quiet NaN
  const roundingBias = ((bits >>> 16) & 1) + 0x7fff;
  return ((bits + roundingBias) >>> 16) & 0xffff;
}

export function floatToBf16Bits(x: number): number {
  return bf16FromF32Bits(f32Bits(x));
}

export function bf16BitsToFloat(bits: number): number {
  return f32FromBits((bits & 0xffff) << 16);
}

/** Rounds a float32 bit pattern to f16 bits (round to nearest, ties to even). */
function f16FromF32Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 | (mantissa >>> 13) : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (halfExponent <= 0) {
    // subnormal f16 (or zero): shift the implicit-1 mantissa into place, then round
    if (halfExponent < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    let half = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // a carry out of the mantissa bumps the exponent, and up to inf at the top: both correct
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1;
  return sign | half;
}

export function floatToF16Bits(x: number): number {
  return f16FromF32Bits(f32Bits(x));
}

export function f16BitsToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa !== 0 ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Values -> bf16 bit patterns (through float32, as torch does). */
export function toBf16Array(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  if (values instanceof Float32Array) {
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < out.length; i++) out[i] = bf16FromF32Bits(bits[i]);
  } else {
    for (let i = 0; i < out.length; i++) out[i] = floatToBf16Bits(values[i]);
  }
  return out;
}

export function bf16ArrayToFloat32(bits: Uint16Array): Float32Array {
  const wide = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) wide[i] = bits[i] << 16;
  return new Float32Array(wide.buffer);
}

export function toF16Array(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < out.length; i++) out[i] = floatToF16Bits(values[i]);
  return out;
}

export function f16ArrayToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16BitsToFloat(bits[i]);
  return out;
}
