// Writes a checkpoint split over N safetensors shards plus model.safetensors.index.json, named and
// formatted as Hugging Face's save_pretrained does (model-00001-of-00002.safetensors; the index is
// json.dumps(indent=2, sort_keys=True) + "\n"). One shard writes a plain model.safetensors.
// Tests: npx vitest run libs/safetensors

import * as fs from 'node:fs';
import * as path from 'node:path';
import { tensorByteSize, writeSafetensors, type SafetensorsMetadata, type TensorToWrite } from './safetensors-writer';

export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_SAFETENSORS_FILE = 'model.safetensors';

export interface ShardedWriteResult {
  /** File names (relative to the directory), in shard order. */
  files: string[];
  /** Sum of the tensors' data bytes (the index's metadata.total_size). */
  totalSize: number;
  /** Tensor name -> file name. */
  weightMap: Record<string, string>;
}

export function shardFileName(index: number, numShards: number): string {
  const pad = (n: number): string => String(n).padStart(5, '0');
  return `model-${pad(index + 1)}-of-${pad(numShards)}.safetensors`;
}

/**
 * Splits tensors, kept in the given order, into exactly `numShards` contiguous groups of roughly
 * equal byte size (every shard gets at least one tensor).
 */
export function splitIntoShards<T extends TensorToWrite>(tensors: readonly T[], numShards: number): T[][] {
  if (!Number.isInteger(numShards) || numShards < 1) throw new Error(`safetensors: invalid shard count ${numShards}`);
  if (tensors.length < numShards) {
    throw new Error(`safetensors: cannot split ${tensors.length} tensors into ${numShards} shards`);
  }
  const total = tensors.reduce((sum, t) => sum + tensorByteSize(t), 0);
  const target = Math.ceil(total / numShards);
  const shards: T[][] = [[]];
  let shardBytes = 0;
  tensors.forEach((t, i) => {
    const bytes = tensorByteSize(t);
    const current = shards[shards.length - 1];
    const shardsStillNeeded = numShards - shards.length;
    const mustSplit = tensors.length - i <= shardsStillNeeded; // one tensor left per empty shard
    const wantSplit = shardBytes + bytes > target;
    if (current.length > 0 && shardsStillNeeded > 0 && (mustSplit || wantSplit)) {
      shards.push([]);
      shardBytes = 0;
    }
    shards[shards.length - 1].push(t);
    shardBytes += bytes;
  });
  return shards;
}

function sortedObject(map: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(map).sort()) out[key] = map[key];
  return out;
}

/** Writes the shards and the index into `dir` (created if missing). */
export function writeShardedSafetensors(
  dir: string,
  tensors: readonly TensorToWrite[],
  numShards: number,
  metadata?: SafetensorsMetadata,
): ShardedWriteResult {
  fs.mkdirSync(dir, { recursive: true });
  const groups = splitIntoShards(tensors, numShards);
  const weightMap: Record<string, string> = {};
  const files: string[] = [];
  let totalSize = 0;
  groups.forEach((group, i) => {
    const file = numShards === 1 ? SINGLE_SAFETENSORS_FILE : shardFileName(i, numShards);
    totalSize += writeSafetensors(path.join(dir, file), group, metadata);
    for (const t of group) weightMap[t.name] = file;
    files.push(file);
  });
  if (numShards > 1) {
    const index = { metadata: { total_size: totalSize }, weight_map: sortedObject(weightMap) };
    fs.writeFileSync(path.join(dir, SAFETENSORS_INDEX_FILE), JSON.stringify(index, null, 2) + '\n');
  }
  return { files, totalSize, weightMap };
}
