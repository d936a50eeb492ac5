// Writes the safetensors format: u64 LE header length, JSON header ({"__metadata__": {..}, name:
// {dtype, shape, data_offsets}}), then the tensor bytes. Laid out as the Rust/Python writer does:
// tensors sorted by dtype (largest first) then name, header padded with spaces to a multiple of 8.
// Tests: npx vitest run libs/safetensors

import * as fs from 'node:fs';
import { DTYPE_BYTES, dtypeRank, encodeValues, numElements, type SafetensorsDType } from './dtypes';

export interface TensorToWrite {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  data: Float32Array | Float64Array;
}

export type SafetensorsMetadata = Record<string, string>;

interface HeaderEntry {
  dtype: SafetensorsDType;
  shape: number[];
  data_offsets: [number, number];
}

/** A planned file: the padded header bytes and the tensors in data order. */
export interface SafetensorsLayout {
  header: Buffer;
  ordered: TensorToWrite[];
  dataBytes: number;
}

/** Byte size of a tensor's data once encoded. */
export function tensorByteSize(tensor: Pick<TensorToWrite, 'dtype' | 'shape'>): number {
  return numElements(tensor.shape) * DTYPE_BYTES[tensor.dtype];
}

function validate(tensors: readonly TensorToWrite[]): void {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name.length === 0) throw new Error(`safetensors: invalid tensor name '${t.name}'`);
    if (seen.has(t.name)) throw new Error(`safetensors: duplicate tensor '${t.name}'`);
    seen.add(t.name);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`safetensors: tensor '${t.name}' has an invalid shape [${t.shape.join(', ')}]`);
    }
    if (numElements(t.shape) !== t.data.length) {
      throw new Error(`safetensors: tensor '${t.name}' has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    }
  }
}

export function planSafetensors(tensors: readonly TensorToWrite[], metadata?: SafetensorsMetadata): SafetensorsLayout {
  validate(tensors);
  const ordered = [...tensors].sort((a, b) =>
    dtypeRank(b.dtype) - dtypeRank(a.dtype) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // null prototype: a tensor named '__proto__' stays an ordinary key
  const header = Object.create(null) as Record<string, HeaderEntry | SafetensorsMetadata>;
  if (metadata !== undefined) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const t of ordered) {
    const end = offset + tensorByteSize(t);
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, end] };
    offset = end;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padding = (8 - (json.length % 8)) % 8;
  return { header: Buffer.concat([json, Buffer.alloc(padding, 0x20)]), ordered, dataBytes: offset };
}

function lengthPrefix(header: Buffer): Buffer {
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(header.length));
  return prefix;
}

/** The whole file as one buffer (for small files and tests). */
export function serializeSafetensors(tensors: readonly TensorToWrite[], metadata?: SafetensorsMetadata): Buffer {
  const { header, ordered } = planSafetensors(tensors, metadata);
  const parts = [lengthPrefix(header), header, ...ordered.map((t) => encodeValues(t.dtype, t.data))];
  return Buffer.concat(parts);
}

/** Writes one safetensors file, encoding one tensor at a time. Returns the data byte count. */
export function writeSafetensors(path: string, tensors: readonly TensorToWrite[], metadata?: SafetensorsMetadata): number {
  const { header, ordered, dataBytes } = planSafetensors(tensors, metadata);
  const fd = fs.openSync(path, 'w');
  try {
    fs.writeSync(fd, lengthPrefix(header));
    fs.writeSync(fd, header);
    for (const t of ordered) fs.writeSync(fd, encodeValues(t.dtype, t.data));
  } finally {
    fs.closeSync(fd);
  }
  return dataBytes;
}
