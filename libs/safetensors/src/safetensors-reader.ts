// Reads one safetensors file: parses and validates the header as the Rust library does (offsets
// contiguous from 0, sizes matching shape x dtype, data ending at end of file), then reads each
// tensor's bytes on demand from the file (or from an in-memory buffer).
// Tests: npx vitest run libs/safetensors

import * as fs from 'node:fs';
import { decodeFloat32, decodeFloat64, DTYPE_BYTES, isSafetensorsDType, numElements, type SafetensorsDType } from './dtypes';

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** [begin, end) in bytes, relative to the start of the data section. */
  dataOffsets: [number, number];
}

/** Where the bytes come from: a file descriptor or a buffer. */
interface ByteSource {
  size: number;
  read(position: number, length: number): Uint8Array;
  close(): void;
}

const MAX_HEADER_BYTES = 100_000_000; // the Rust reader's limit

function bufferSource(buffer: Uint8Array): ByteSource {
  return { size: buffer.byteLength, read: (pos, len) => buffer.subarray(pos, pos + len), close: () => undefined };
}

function fileSource(path: string): ByteSource {
  const fd = fs.openSync(path, 'r');
  return {
    size: fs.fstatSync(fd).size,
    read(pos, len) {
      const out = Buffer.alloc(len);
      let done = 0;
      while (done < len) {
        const n = fs.readSync(fd, out, done, len - done, pos + done);
        if (n === 0) throw new Error(`safetensors: unexpected end of ${path}`);
        done += n;
      }
      return out;
    },
    close: () => fs.closeSync(fd),
  };
}

function parseEntry(name: string, value: unknown): TensorInfo {
  const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
  const shape = entry?.shape;
  const offsets = entry?.data_offsets;
  if (typeof entry !== 'object' || entry === null) throw new Error(`safetensors: bad header entry for '${name}'`);
  if (!isSafetensorsDType(entry.dtype)) throw new Error(`safetensors: tensor '${name}' has unsupported dtype ${String(entry.dtype)}`);
  const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!Array.isArray(shape) || !shape.every(isCount)) throw new Error(`safetensors: tensor '${name}' has a bad shape`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw new Error(`safetensors: tensor '${name}' has bad data_offsets`);
  }
  return { name, dtype: entry.dtype, shape: shape as number[], dataOffsets: [offsets[0] as number, offsets[1] as number] };
}

export class SafetensorsFile {
  readonly metadata: Readonly<Record<string, string>>;
  private readonly infos = new Map<string, TensorInfo>();
  private readonly dataStart: number;

  private constructor(private readonly source: ByteSource, readonly origin: string) {
    if (source.size < 8) throw new Error(`safetensors: ${origin} is too small`);
    const headerBytes = Number(Buffer.from(source.read(0, 8)).readBigUInt64LE());
    if (headerBytes > MAX_HEADER_BYTES || 8 + headerBytes > source.size) {
      throw new Error(`safetensors: ${origin} has an invalid header length ${headerBytes}`);
    }
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(source.read(8, headerBytes)).toString('utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`safetensors: ${origin} has an unreadable header: ${(err as Error).message}`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) {
      throw new Error(`safetensors: ${origin} header is not an object`);
    }
    this.dataStart = 8 + headerBytes;
    const { __metadata__: metadata, ...entries } = header;
    const isStringMap = (v: unknown): boolean =>
      typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
    if (metadata !== undefined && !isStringMap(metadata)) throw new Error(`safetensors: ${origin} __metadata__ is not a string map`);
    this.metadata = (metadata ?? {}) as Record<string, string>;
    for (const [name, value] of Object.entries(entries)) this.infos.set(name, parseEntry(name, value));
    this.validateOffsets();
  }

  static open(path: string): SafetensorsFile {
    const source = fileSource(path);
    try {
      return new SafetensorsFile(source, path);
    } catch (err) {
      source.close();
      throw err;
    }
  }

  static fromBuffer(buffer: Uint8Array, origin = '<buffer>'): SafetensorsFile {
    return new SafetensorsFile(bufferSource(buffer), origin);
  }

  private validateOffsets(): void {
    const sorted = [...this.infos.values()].sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0]);
    let expected = 0;
    for (const info of sorted) {
      const [begin, end] = info.dataOffsets;
      if (begin !== expected || end < begin) throw new Error(`safetensors: ${this.origin}: tensor '${info.name}' has invalid offsets`);
      if (end - begin !== numElements(info.shape) * DTYPE_BYTES[info.dtype]) {
        throw new Error(`safetensors: ${this.origin}: tensor '${info.name}' size does not match its shape and dtype`);
      }
      expected = end;
    }
    if (this.dataStart + expected !== this.source.size) {
      throw new Error(`safetensors: ${this.origin}: data section is ${this.source.size - this.dataStart} bytes, header describes ${expected}`);
    }
  }

  /** Tensor names in header (data) order. */
  names(): string[] {
    return [...this.infos.keys()];
  }

  has(name: string): boolean {
    return this.infos.has(name);
  }

  info(name: string): TensorInfo {
    const info = this.infos.get(name);
    if (info === undefined) throw new Error(`safetensors: no tensor '${name}' in ${this.origin}`);
    return info;
  }

  /** The raw little-endian bytes of a tensor. */
  bytes(name: string): Uint8Array {
    const [begin, end] = this.info(name).dataOffsets;
    return this.source.read(this.dataStart + begin, end - begin);
  }

  float32(name: string): Float32Array {
    return decodeFloat32(this.info(name).dtype, this.bytes(name));
  }

  float64(name: string): Float64Array {
    return decodeFloat64(this.info(name).dtype, this.bytes(name));
  }

  close(): void {
    this.source.close();
  }
}
