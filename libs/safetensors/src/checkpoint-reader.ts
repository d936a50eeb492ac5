// Reads a Hugging Face checkpoint directory as one tensor namespace: either the sharded form
// (model.safetensors.index.json whose weight_map names each tensor's shard) or a single
// model.safetensors. Shards are opened lazily and closed by close().
// Tests: npx vitest run libs/safetensors

import * as fs from 'node:fs';
import * as path from 'node:path';
import { SafetensorsFile, type TensorInfo } from './safetensors-reader';
import { SAFETENSORS_INDEX_FILE, SINGLE_SAFETENSORS_FILE } from './sharded-writer';

export interface SafetensorsIndex {
  metadata?: { total_size?: number } & Record<string, unknown>;
  weight_map: Record<string, string>;
}

export class SafetensorsCheckpoint {
  private readonly files = new Map<string, SafetensorsFile>();

  private constructor(readonly dir: string, private readonly weightMap: ReadonlyMap<string, string>, readonly index?: SafetensorsIndex) {}

  /** Opens `dir` (a checkpoint directory) or a single .safetensors / index.json file path. */
  static open(location: string): SafetensorsCheckpoint {
    const stat = fs.statSync(location);
    const dir = stat.isDirectory() ? location : path.dirname(location);
    const indexPath = stat.isDirectory() ? path.join(dir, SAFETENSORS_INDEX_FILE) : location.endsWith('.json') ? location : undefined;
    if (indexPath !== undefined && fs.existsSync(indexPath)) {
      const index = JSON.parse(fs.readFileSync(indexPath, 'utf8')) as SafetensorsIndex;
      if (typeof index.weight_map !== 'object' || index.weight_map === null) throw new Error(`safetensors: ${indexPath} has no weight_map`);
      return new SafetensorsCheckpoint(dir, new Map(Object.entries(index.weight_map)), index);
    }
    const single = stat.isDirectory() ? path.join(dir, SINGLE_SAFETENSORS_FILE) : location;
    if (!fs.existsSync(single)) throw new Error(`safetensors: no ${SAFETENSORS_INDEX_FILE} or ${SINGLE_SAFETENSORS_FILE} in ${dir}`);
    const file = SafetensorsFile.open(single);
    const checkpoint = new SafetensorsCheckpoint(dir, new Map(file.names().map((n) => [n, path.basename(single)])));
    checkpoint.files.set(path.basename(single), file);
    return checkpoint;
  }

  /** Tensor names (weight_map order for sharded checkpoints). */
  names(): string[] {
    return [...this.weightMap.keys()];
  }

  /** Shard file names, in first-use order of the weight map. */
  shardFiles(): string[] {
    return [...new Set(this.weightMap.values())];
  }

  has(name: string): boolean {
    return this.weightMap.has(name);
  }

  /** The shard holding `name`, opened on first use. */
  fileOf(name: string): SafetensorsFile {
    const file = this.weightMap.get(name);
    if (file === undefined) throw new Error(`safetensors: no tensor '${name}' in ${this.dir}`);
    let opened = this.files.get(file);
    if (opened === undefined) {
      opened = SafetensorsFile.open(path.join(this.dir, file));
      this.files.set(file, opened);
    }
    if (!opened.has(name)) throw new Error(`safetensors: ${file} does not contain '${name}' named by the index`);
    return opened;
  }

  info(name: string): TensorInfo {
    return this.fileOf(name).info(name);
  }

  float32(name: string): Float32Array {
    return this.fileOf(name).float32(name);
  }

  float64(name: string): Float64Array {
    return this.fileOf(name).float64(name);
  }

  close(): void {
    for (const file of this.files.values()) file.close();
    this.files.clear();
  }
}
