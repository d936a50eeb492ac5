// bf16 / f16 conversions: hand-checked rounding cases (ties to even), specials, and exhaustive
// round trips over every 16-bit pattern.
import { describe, expect, it } from 'vitest';
import {
  bf16ArrayToFloat32, bf16BitsToFloat, f16ArrayToFloat32, f16BitsToFloat, floatToBf16Bits, floatToF16Bits,
  toBf16Array, toF16Array,
} from './float-conversions';

function fromF32Bits(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0];
}

describe('bf16', () => {
  it.each([
    ['1.0', 0x3f800000, 0x3f80],
    ['just below half ulp', 0x3f807fff, 0x3f80],
    ['tie, even below: stays', 0x3f808000, 0x3f80],
    ['just above half ulp', 0x3f808001, 0x3f81],
    ['tie, odd below: rounds up', 0x3f818000, 0x3f82],
    ['negative tie to even', 0xbf818000, 0xbf82],
    ['carry into exponent', 0x3fffffff, 0x4000],
    ['max float32 -> inf', 0x7f7fffff, 0x7f80],
    ['+inf', 0x7f800000, 0x7f80],
    ['-inf', 0xff800000, 0xff80],
    ['-0', 0x80000000, 0x8000],
    ['subnormal tie to even', 0x00008000, 0x0000],
    ['subnormal tie up', 0x00018000, 0x0002],
  ])('%s', (_label, f32, expected) => {
    expect(floatToBf16Bits(fromF32Bits(f32))).toBe(expected);
  });

  it('maps NaN to PyTorch canonical 0x7fc0', () => {
    expect(floatToBf16Bits(NaN)).toBe(0x7fc0);
    expect(Number.isNaN(bf16BitsToFloat(0x7fc0))).toBe(true);
  });

  it('rounds float64 through float32 like torch', () => {
    expect(floatToBf16Bits(0.1)).toBe(0x3dcd);
    expect(bf16BitsToFloat(0x3dcd)).toBeCloseTo(0.10009765625, 12);
    expect(floatToBf16Bits(-2.5)).toBe(0xc020);
  });

  it('round-trips every non-NaN bit pattern', () => {
    const bits = new Uint16Array(65536).map((_, i) => i);
    const floats = bf16ArrayToFloat32(bits);
    const back = toBf16Array(floats);
    const mismatches: number[] = [];
    for (let i = 0; i < 65536; i++) {
      if (!Number.isNaN(floats[i]) && (back[i] !== i || bf16BitsToFloat(i) !== floats[i])) mismatches.push(i);
    }
    expect(mismatches).toEqual([]);
  });

  it('array path (Float32Array) matches the scalar path', () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10 ** ((i % 20) - 10));
    const viaArray = toBf16Array(values);
    const viaScalar = toBf16Array(Array.from(values));
    expect(viaArray).toEqual(viaScalar);
  });
});

describe('f16', () => {
  it.each([
    ['1.0', 1, 0x3c00],
    ['-2', -2, 0xc000],
    ['max normal', 65504, 0x7bff],
    ['below overflow midpoint', 65519, 0x7bff],
    ['overflow tie -> inf', 65520, 0x7c00],
    ['huge -> inf', 1e10, 0x7c00],
    ['smallest normal', 2 ** -14, 0x0400],
    ['smallest subnormal', 2 ** -24, 0x0001],
    ['half smallest subnormal: tie to 0', 2 ** -25, 0x0000],
    ['above half smallest subnormal', 1.5 * 2 ** -25, 0x0001],
    ['subnormal tie to even (up)', 3 * 2 ** -25, 0x0002],
    ['tie to even (stays)', 1 + 2 ** -11, 0x3c00],
    ['tie to even (up)', 1 + 3 * 2 ** -11, 0x3c02],
    ['-0', -0, 0x8000],
    ['-inf', -Infinity, 0xfc00],
  ])('%s', (_label, value, expected) => {
    expect(floatToF16Bits(value)).toBe(expected);
  });

  it('keeps NaN a NaN', () => {
    expect(floatToF16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(floatToF16Bits(NaN) & 0x3ff).not.toBe(0);
    expect(Number.isNaN(f16BitsToFloat(0x7e00))).toBe(true);
  });

  it('round-trips every non-NaN bit pattern', () => {
    const bits = new Uint16Array(65536).map((_, i) => i);
    const floats = f16ArrayToFloat32(bits);
    const back = toF16Array(floats);
    const mismatches: number[] = [];
    for (let i = 0; i < 65536; i++) {
      if (!Number.isNaN(floats[i]) && back[i] !== i) mismatches.push(i);
    }
    expect(mismatches).toEqual([]);
  });

  it('rounds every midpoint between neighbours to the even one', () => {
    const mismatches: number[] = [];
    for (let i = 0; i < 0x7bff; i++) {
      const mid = (f16BitsToFloat(i) + f16BitsToFloat(i + 1)) / 2; // exact in float32
      if (floatToF16Bits(mid) !== (i % 2 === 0 ? i : i + 1)) mismatches.push(i);
    }
    expect(mismatches).toEqual([]);
  });
});
