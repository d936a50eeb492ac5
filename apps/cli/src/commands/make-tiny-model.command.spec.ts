// `tpserve make-tiny-model` through commander: flags reach the library, bad flags reject with one
// clear message (main.ts prints it as `tpserve: <message>` and exits 1).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { registerMakeTinyModel } from './make-tiny-model.command';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'make-tiny-model-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(args: string[]): Promise<Command> {
  const program = new Command().exitOverride();
  registerMakeTinyModel(program);
  return program.parseAsync(['node', 'tpserve', 'make-tiny-model', ...args]);
}

describe('tpserve make-tiny-model', () => {
  it('writes a checkpoint with the given shape', async () => {
    const out = path.join(tmp, 'model');
    await run(['--out', out, '--seed', '3', '--layers', '1', '--hidden', '32', '--heads', '2', '--kv-heads', '1', '--head-dim', '8', '--intermediate', '48', '--shards', '3', '--dtype', 'f32']);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ num_hidden_layers: 1, hidden_size: 32, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 8, intermediate_size: 48, torch_dtype: 'float32' });
    expect(fs.existsSync(path.join(out, 'model-00003-of-00003.safetensors'))).toBe(true);
  });

  it('takes --vocab rows and --no-attention-bias (the Llama layout of the 246M bench shape)', async () => {
    const out = path.join(tmp, 'llama');
    await run(['--out', out, '--layers', '1', '--hidden', '32', '--heads', '2', '--kv-heads', '1', '--head-dim', '16', '--intermediate', '48', '--vocab', '4000', '--no-attention-bias', '--shards', '1']);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ vocab_size: 4000, attention_bias: false });
    const header = fs.readFileSync(path.join(out, 'model.safetensors'));
    const json = JSON.parse(header.subarray(8, 8 + Number(header.readBigUInt64LE(0))).toString('utf8')) as Record<string, { shape: number[] }>;
    expect(json['model.embed_tokens.weight'].shape).toEqual([4000, 32]);
    expect(Object.keys(json).some((name) => name.endsWith('q_proj.bias'))).toBe(false);
  });

  it.each([
    [['--out', path.join(tmp, 'x'), '--vocab', '10'], /--vocab 10 is below the tokenizer's \d+ tokens/],
    [[], /--out DIR is required/],
    [['--out', path.join(tmp, 'x'), '--heads', '3'], /--heads \(3\) must be a multiple of --kv-heads \(2\)/],
    [['--out', path.join(tmp, 'x'), '--layers', 'two'], /--layers expects an integer/],
    [['--out', path.join(tmp, 'x'), '--dtype', 'fp8'], /--dtype must be bf16 or f32/],
  ])('rejects %j', async (args, message) => {
    await expect(run(args)).rejects.toThrow(message);
  });
});
