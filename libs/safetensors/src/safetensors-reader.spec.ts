// Reader: hand-assembled buffers, round trips through files for every dtype, validation errors.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SafetensorsFile } from './safetensors-reader';
import { serializeSafetensors, writeSafetensors } from './safetensors-writer';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'safetensors-reader-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Assembles a file by hand: u64 LE header length, header text, raw data. */
function assemble(header: string, data: number[]): Buffer {
  const headerBytes = Buffer.from(header, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));
  return Buffer.concat([prefix, headerBytes, Buffer.from(data)]);
}

describe('SafetensorsFile', () => {
  it('reads a hand-assembled buffer (unpadded header, BF16 + F32 + I32)', () => {
    const header = JSON.stringify({
      __metadata__: { format: 'pt', note: 'hand' },
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'BF16', shape: [1, 2], data_offsets: [8, 12] },
      c: { dtype: 'I32', shape: [], data_offsets: [12, 16] },
    });
    const data = [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x80, 0x3f, 0x20, 0xc0, 0xfe, 0xff, 0xff, 0xff];
    const file = SafetensorsFile.fromBuffer(assemble(header, data));
    expect(file.names()).toEqual(['a', 'b', 'c']);
    expect(file.metadata).toEqual({ format: 'pt', note: 'hand' });
    expect(file.info('b')).toEqual({ name: 'b', dtype: 'BF16', shape: [1, 2], dataOffsets: [8, 12] });
    expect(Array.from(file.float32('a'))).toEqual([1, -2]);
    expect(Array.from(file.float64('b'))).toEqual([1, -2.5]);
    expect(Array.from(file.float64('c'))).toEqual([-2]);
  });

  it('round-trips every dtype through a file', () => {
    const values = [0, 1, -1.5, 0.1, 3.14159, -65504, 1e-3];
    const file = path.join(tmp, 'all.safetensors');
    writeSafetensors(file, [
      { name: 'f64', dtype: 'F64', shape: [7], data: Float64Array.from(values) },
      { name: 'f32', dtype: 'F32', shape: [7], data: Float32Array.from(values) },
      { name: 'f16', dtype: 'F16', shape: [7, 1], data: Float32Array.from(values) },
      { name: 'bf16', dtype: 'BF16', shape: [1, 7], data: Float64Array.from(values) },
      { name: 'i64', dtype: 'I64', shape: [3], data: Float64Array.from([2 ** 40, -3, 0]) },
      { name: 'i32', dtype: 'I32', shape: [3], data: Float64Array.from([7, -8, 9]) },
    ], { format: 'pt' });
    const reader = SafetensorsFile.open(file);
    try {
      expect(Array.from(reader.float64('f64'))).toEqual(values);
      expect(reader.float32('f32')).toEqual(Float32Array.from(values));
      const f16 = reader.float64('f16');
      const bf16 = reader.float64('bf16');
      values.forEach((v, i) => {
        expect(Math.abs(f16[i] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 1e-7);
        expect(Math.abs(bf16[i] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -8);
      });
      expect(Array.from(reader.float64('i64'))).toEqual([2 ** 40, -3, 0]);
      expect(Array.from(reader.float64('i32'))).toEqual([7, -8, 9]);
      expect(reader.info('bf16').shape).toEqual([1, 7]);
      expect(reader.metadata).toEqual({ format: 'pt' });
    } finally {
      reader.close();
    }
  });

  it('reads the same values from a buffer and from a file', () => {
    const tensors = [{ name: 'w', dtype: 'BF16' as const, shape: [3, 5], data: Float32Array.from({ length: 15 }, (_, i) => i / 7) }];
    const file = path.join(tmp, 'w.safetensors');
    writeSafetensors(file, tensors);
    const fromDisk = SafetensorsFile.open(file);
    const fromMemory = SafetensorsFile.fromBuffer(serializeSafetensors(tensors));
    expect(fromDisk.float32('w')).toEqual(fromMemory.float32('w'));
    fromDisk.close();
  });

  it.each([
    ['a header length past the end', assemble('{}', []).fill(0xff, 0, 8)],
    ['a non-JSON header', assemble('{nope', [])],
    ['an unknown dtype', assemble('{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}', [0])],
    ['a size that does not match the shape', assemble('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', [0, 0, 0, 0])],
    ['a hole between tensors', assemble('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', [0, 0, 0, 0, 0, 0, 0, 0])],
    ['trailing data', assemble('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0, 9])],
    ['a file shorter than 8 bytes', Buffer.from([1, 2, 3])],
    ['non-string metadata', assemble('{"__metadata__":{"n":1}}', [])],
  ])('rejects %s', (_label, buffer) => {
    expect(() => SafetensorsFile.fromBuffer(buffer)).toThrow(/safetensors/);
  });

  it('names a missing tensor in its error', () => {
    const file = SafetensorsFile.fromBuffer(serializeSafetensors([{ name: 'w', dtype: 'F32', shape: [1], data: new Float32Array(1) }]));
    expect(() => file.float32('nope')).toThrow(/no tensor 'nope'/);
  });
});
