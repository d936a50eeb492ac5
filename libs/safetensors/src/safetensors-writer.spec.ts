// Writer: byte-for-byte equality with files from Python safetensors 0.8.0 (safetensors.numpy.save),
// header alignment, and input validation.
import { describe, expect, it } from 'vitest';
import { planSafetensors, serializeSafetensors, type TensorToWrite } from './safetensors-writer';

// safetensors.numpy.save({'w': np.array([1.0, -0.5], np.float32)})
const PY_SINGLE = '38000000000000007b2277223a7b226474797065223a22463332222c227368617065223a5b325d2c22646174615f6f666673657473223a5b302c385d7d7d20200000803f000000bf';

// safetensors.numpy.save({'b.weight': f32 [[1.5,-2],[0.25,3]], 'a.bias': f16 [1,2,3], 'c': f64 arange(3),
//   'z': i64 [7,-8], 'i': i32 [5]}, metadata={'format': 'pt'})
const PY_MIXED =
  '40010000000000007b225f5f6d657461646174615f5f223a7b22666f726d6174223a227074227d2c227a223a7b226474797065223a22493634222c227368617065223a5b325d2c22646174615f6f666673657473223a5b302c31365d7d2c2263223a7b226474797065223a22463634222c227368617065223a5b335d2c22646174615f6f666673657473223a5b31362c34305d7d2c22622e776569676874223a7b226474797065223a22463332222c227368617065223a5b322c325d2c22646174615f6f666673657473223a5b34302c35365d7d2c2269223a7b226474797065223a22493332222c227368617065223a5b315d2c22646174615f6f666673657473223a5b35362c36305d7d2c22612e62696173223a7b226474797065223a22463136222c227368617065223a5b335d2c22646174615f6f666673657473223a5b36302c36365d7d7d0700000000000000f8ffffffffffffff0000000000000000000000000000f03f00000000000000400000c03f000000c00000803e0000404005000000003c00400042';

describe('serializeSafetensors', () => {
  it('matches the Python writer for one tensor (with header padding)', () => {
    const bytes = serializeSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: new Float32Array([1, -0.5]) }]);
    expect(bytes.toString('hex')).toBe(PY_SINGLE);
  });

  it('matches the Python writer for mixed dtypes and metadata (dtype-then-name order)', () => {
    const tensors: TensorToWrite[] = [
      { name: 'b.weight', dtype: 'F32', shape: [2, 2], data: new Float32Array([1.5, -2, 0.25, 3]) },
      { name: 'a.bias', dtype: 'F16', shape: [3], data: new Float32Array([1, 2, 3]) },
      { name: 'c', dtype: 'F64', shape: [3], data: new Float64Array([0, 1, 2]) },
      { name: 'z', dtype: 'I64', shape: [2], data: new Float64Array([7, -8]) },
      { name: 'i', dtype: 'I32', shape: [1], data: new Float64Array([5]) },
    ];
    expect(serializeSafetensors(tensors, { format: 'pt' }).toString('hex')).toBe(PY_MIXED);
  });

  it('pads the header with spaces to a multiple of 8 for every name length', () => {
    for (let len = 1; len <= 16; len++) {
      const { header } = planSafetensors([{ name: 'x'.repeat(len), dtype: 'BF16', shape: [1], data: new Float32Array([1]) }]);
      expect(header.length % 8).toBe(0);
      const text = header.toString('utf8');
      expect(text.trimEnd().endsWith('}')).toBe(true);
      expect(/^[^ ]*}( *)$/.exec(text)?.[1].length).toBeLessThan(8);
    }
  });

  it('writes bf16 as little-endian rounded halves', () => {
    const bytes = serializeSafetensors([{ name: 't', dtype: 'BF16', shape: [2], data: new Float32Array([1, -2.5]) }]);
    expect(bytes.subarray(bytes.length - 4).toString('hex')).toBe('803f20c0');
  });

  it('writes zero-element tensors', () => {
    const bytes = serializeSafetensors([{ name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) }]);
    expect(bytes.toString('utf8')).toContain('"data_offsets":[0,0]');
  });

  it('rejects a value count that does not match the shape', () => {
    expect(() => serializeSafetensors([{ name: 'w', dtype: 'F32', shape: [2, 2], data: new Float32Array(3) }])).toThrow(/3 values/);
  });

  it('rejects duplicate names and the reserved __metadata__ name', () => {
    const t = { name: 'w', dtype: 'F32' as const, shape: [1], data: new Float32Array(1) };
    expect(() => serializeSafetensors([t, t])).toThrow(/duplicate/);
    expect(() => serializeSafetensors([{ ...t, name: '__metadata__' }])).toThrow(/invalid tensor name/);
  });

  it('keeps a tensor named __proto__ as an ordinary entry', () => {
    const bytes = serializeSafetensors([{ name: '__proto__', dtype: 'F32', shape: [1], data: new Float32Array([2]) }]);
    expect(bytes.toString('utf8')).toContain('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
  });

  it('rejects integers that do not fit I32', () => {
    expect(() => serializeSafetensors([{ name: 'i', dtype: 'I32', shape: [1], data: new Float64Array([2 ** 31]) }])).toThrow();
  });
});
