// Sharded checkpoints: Hugging Face file names and index format, reading back through the index.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SafetensorsCheckpoint } from './checkpoint-reader';
import type { TensorToWrite } from './safetensors-writer';
import { shardFileName, splitIntoShards, writeShardedSafetensors } from './sharded-writer';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'safetensors-sharded-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function tensor(name: string, numValues: number): TensorToWrite {
  return { name, dtype: 'BF16', shape: [numValues], data: Float32Array.from({ length: numValues }, (_, i) => i) };
}

describe('splitIntoShards', () => {
  it('keeps order and balances bytes', () => {
    const groups = splitIntoShards([tensor('a', 10), tensor('b', 10), tensor('c', 10), tensor('d', 10)], 2);
    expect(groups.map((g) => g.map((t) => t.name))).toEqual([['a', 'b'], ['c', 'd']]);
  });

  it('gives every shard at least one tensor even when one tensor dominates', () => {
    const groups = splitIntoShards([tensor('big', 1000), tensor('s1', 1), tensor('s2', 1)], 3);
    expect(groups.map((g) => g.length)).toEqual([1, 1, 1]);
  });

  it('rejects more shards than tensors', () => {
    expect(() => splitIntoShards([tensor('a', 1)], 2)).toThrow(/cannot split/);
  });
});

describe('writeShardedSafetensors', () => {
  it('uses Hugging Face shard names', () => {
    expect(shardFileName(0, 2)).toBe('model-00001-of-00002.safetensors');
    expect(shardFileName(11, 12)).toBe('model-00012-of-00012.safetensors');
  });

  it('writes shards and an index as save_pretrained does, and reads them back', () => {
    const dir = path.join(tmp, 'ckpt');
    const tensors = [tensor('model.embed_tokens.weight', 64), tensor('model.norm.weight', 8), tensor('lm_head.weight', 64)];
    const result = writeShardedSafetensors(dir, tensors, 2, { format: 'pt' });
    expect(result.files).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const indexText = fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8');
    expect(indexText).toBe(
      '{\n  "metadata": {\n    "total_size": 272\n  },\n  "weight_map": {\n' +
        '    "lm_head.weight": "model-00002-of-00002.safetensors",\n' +
        '    "model.embed_tokens.weight": "model-00001-of-00002.safetensors",\n' +
        '    "model.norm.weight": "model-00002-of-00002.safetensors"\n  }\n}\n',
    );
    const checkpoint = SafetensorsCheckpoint.open(dir);
    try {
      expect(checkpoint.names().sort()).toEqual(tensors.map((t) => t.name).sort());
      expect(checkpoint.shardFiles()).toHaveLength(2);
      expect(checkpoint.info('model.norm.weight')).toMatchObject({ dtype: 'BF16', shape: [8] });
      expect(Array.from(checkpoint.float32('lm_head.weight'))).toEqual(Array.from(tensors[2].data));
      expect(checkpoint.fileOf('lm_head.weight').metadata).toEqual({ format: 'pt' });
    } finally {
      checkpoint.close();
    }
  });

  it('writes a single model.safetensors without an index for one shard', () => {
    const dir = path.join(tmp, 'single');
    writeShardedSafetensors(dir, [tensor('w', 4)], 1);
    expect(fs.readdirSync(dir)).toEqual(['model.safetensors']);
    const checkpoint = SafetensorsCheckpoint.open(dir);
    expect(checkpoint.names()).toEqual(['w']);
    expect(Array.from(checkpoint.float64('w'))).toEqual([0, 1, 2, 3]);
    checkpoint.close();
  });

  it('fails clearly on a directory with no checkpoint', () => {
    fs.mkdirSync(path.join(tmp, 'empty'));
    expect(() => SafetensorsCheckpoint.open(path.join(tmp, 'empty'))).toThrow(/no model.safetensors.index.json/);
  });
});
