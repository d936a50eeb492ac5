// safetensors dtypes this library handles, their sizes, and encoding of values to/from raw
// little-endian bytes. Float dtypes are written from Float32Array/Float64Array; integer dtypes
// (I32, I64) are read and written as numbers (I64 must stay within ±2^53).

import { bf16ArrayToFloat32, f16ArrayToFloat32, toBf16Array, toF16Array } from './float-conversions';

export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32';

export const DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4,
};

/** Order of the Rust safetensors `Dtype` enum; the writer lays out larger-ranked dtypes first. */
const DTYPE_RANK: Readonly<Record<SafetensorsDType, number>> = {
  F16: 11, BF16: 12, I32: 13, F32: 15, F64: 16, I64: 17,
};

export function isSafetensorsDType(value: unknown): value is SafetensorsDType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, value);
}

export function dtypeRank(dtype: SafetensorsDType): number {
  return DTYPE_RANK[dtype];
}

export function numElements(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('safetensors: big-endian hosts are not supported');
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Encodes `values` as the raw little-endian bytes of `dtype`. */
export function encodeValues(dtype: SafetensorsDType, values: Float32Array | Float64Array): Uint8Array {
  switch (dtype) {
    case 'F64': return bytesOf(values instanceof Float64Array ? values : Float64Array.from(values));
    case 'F32': return bytesOf(values instanceof Float32Array ? values : Float32Array.from(values));
    case 'BF16': return bytesOf(toBf16Array(values));
    case 'F16': return bytesOf(toF16Array(values));
    case 'I32': return bytesOf(Int32Array.from(values, (v) => checkedInteger(v, 2 ** 31)));
    case 'I64': return bytesOf(BigInt64Array.from(values, (v) => BigInt(checkedInteger(v, 2 ** 53))));
  }
}

function checkedInteger(value: number, limit: number): number {
  if (!Number.isInteger(value) || value < -limit || value >= limit) {
    throw new Error(`safetensors: ${value} is not a representable integer`);
  }
  return value;
}

/** Copies `bytes` into a fresh, aligned ArrayBuffer. */
function aligned(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

/** Decodes raw little-endian bytes of `dtype` into float32 values (F64/I64 lose precision). */
export function decodeFloat32(dtype: SafetensorsDType, bytes: Uint8Array): Float32Array {
  switch (dtype) {
    case 'F32': return new Float32Array(aligned(bytes));
    case 'BF16': return bf16ArrayToFloat32(new Uint16Array(aligned(bytes)));
    case 'F16': return f16ArrayToFloat32(new Uint16Array(aligned(bytes)));
    default: return Float32Array.from(decodeFloat64(dtype, bytes));
  }
}

/** Decodes raw little-endian bytes of `dtype` into float64 values (exact for every dtype but I64 > 2^53). */
export function decodeFloat64(dtype: SafetensorsDType, bytes: Uint8Array): Float64Array {
  switch (dtype) {
    case 'F64': return new Float64Array(aligned(bytes));
    case 'I32': return Float64Array.from(new Int32Array(aligned(bytes)));
    case 'I64': return Float64Array.from(new BigInt64Array(aligned(bytes)), (v) => Number(v));
    default: return Float64Array.from(decodeFloat32(dtype, bytes));
  }
}
