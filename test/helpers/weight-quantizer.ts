// An independent quantize-then-dequantize of float weights, written from the formats' definitions
// (native/include/tpserve/linear_weight.h) in float32 steps (Math.fround) like the engine:
//   int8: per output row, scale = max|w| / 127, q = round(w / scale) in [-127, 127];
//   int4: per group of 128 along the input, asymmetric: lo = min(0, min w), hi = max(0, max w),
//         scale = (hi - lo) / 15 rounded to the nearest f16 value (kept where that is 0 or infinite),
//         zero = round(-lo / scale), q = clamp(round(w / scale) + zero, 0, 15);
//   fp8:  per output row, scale = max|w| / 448, q = nearest e4m3 value of w / scale (ties to even code).
// Rounding is half to even, as the engine's nearbyint.
import { f16BitsToFloat, floatToF16Bits } from '../../libs/safetensors/src/float-conversions';

export type QuantMethod = 'int8' | 'int4' | 'fp8';

const f = Math.fround;

function int4Scale(s: number): number {
  const h = f16BitsToFloat(floatToF16Bits(s));
  return h > 0 && Number.isFinite(h) ? h : s;
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The 127 non-negative finite e4m3 values, by code. */
const E4M3 = Array.from({ length: 127 }, (_, code) => {
  const e = code >> 3;
  const m = code & 7;
  return e === 0 ? m * 2 ** -9 : (1 + m / 8) * 2 ** (e - 7);
});

function nearestE4m3(v: number): number {
  const a = Math.min(Math.abs(v), 448);
  let best = 0;
  for (let code = 1; code < E4M3.length; code++) {
    const d = Math.abs(E4M3[code] - a) - Math.abs(E4M3[best] - a);
    if (d < 0 || (d === 0 && code % 2 === 0)) best = code;
  }
  return Math.sign(v) * E4M3[best];
}

/** Dequantized values of a [rows, cols] weight after quantization with `method`. */
export function quantizeDequantize(data: ArrayLike<number>, rows: number, cols: number, method: QuantMethod, groupSize = 128): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: cols }, (_, c) => f(data[r * cols + c]));
    if (method === 'int4') {
      if (cols % groupSize !== 0) throw new Error(`int4: ${cols} columns are not a multiple of ${groupSize}`);
      for (let g0 = 0; g0 < cols; g0 += groupSize) {
        const group = row.slice(g0, g0 + groupSize);
        const lo = Math.min(0, ...group);
        const hi = Math.max(0, ...group);
        const scale = int4Scale(hi > lo ? f(f(hi - lo) / 15) : 1);
        const zero = Math.min(15, Math.max(0, roundHalfEven(f(-lo / scale))));
        group.forEach((w, i) => {
          const q = Math.min(15, Math.max(0, roundHalfEven(f(w / scale)) + zero));
          out[r * cols + g0 + i] = f(f(q - zero) * scale);
        });
      }
      continue;
    }
    const amax = Math.max(...row.map(Math.abs));
    const limit = method === 'int8' ? 127 : 448;
    const scale = amax > 0 ? f(amax / limit) : 1;
    row.forEach((w, c) => {
      const v = f(w / scale);
      const q = method === 'int8' ? Math.min(127, Math.max(-127, roundHalfEven(v))) : nearestE4m3(v);
      out[r * cols + c] = f(q * scale);
    });
  }
  return out;
}
