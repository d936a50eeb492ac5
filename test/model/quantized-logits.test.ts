// Quantize-at-load (int8 / int4 / fp8) end to end through the native engine on a random bf16
// Llama checkpoint: the logits equal the float64 reference run on the weights dequantized by an
// independent quantizer (test/helpers/weight-quantizer.ts), tightly; against the unquantized
// model they keep most top-1 tokens (the error is printed). 48 prompt tokens: above the GEMV
// cut-off of 40 rows, so the dequantized-panel GEMM runs too. An unknown method: one clear error.
// Run: npx vitest run test/model/quantized-logits.test.ts (needs the built addon)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeEngine } from '../../libs/native/src/native-engine';
import type { Quantization } from '../../libs/native/src/types';
import { EngineDriver, loadEngine } from '../helpers/engine-driver';
import { argmax, compareLogits, expectLogitsClose } from '../helpers/logits-compare';
import { lookupOf, makeTempDir, randomTokens, removeDir, seededRandom, writeRandomCheckpoint, type CheckpointSpec, type RandomCheckpoint } from '../helpers/random-checkpoint';
import { quantizeDequantize, type QuantMethod } from '../helpers/weight-quantizer';
import { referenceLogits } from '../reference/reference-model';

const SPEC: CheckpointSpec = {
  architecture: 'LlamaForCausalLM',
  dtype: 'bf16',
  vocabSize: 300,
  hiddenSize: 256,
  intermediateSize: 384,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 64,
  seed: 41,
};
const LINEAR = /\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$/;
const NUM_TOKENS = 48;
const DECODE_PROMPT = 8; // prompt of the decode test, then one token per step (the m = 1 kernels)

let dir = '';
let checkpoint: RandomCheckpoint;
let tokens: number[];
let bf16Rows: Float32Array[];

async function engineLogits(quantization: Quantization): Promise<Float32Array[]> {
  // an f32 KV cache: the float64 reference keeps K and V unrounded
  const engine: NativeEngine = await loadEngine(dir, { quantization, kvCacheDtype: 'f32' });
  try {
    return await new EngineDriver(engine).runPrefill(tokens);
  } finally {
    engine.dispose();
  }
}

beforeAll(async () => {
  dir = makeTempDir('quantized');
  checkpoint = writeRandomCheckpoint(dir, SPEC);
  tokens = randomTokens(NUM_TOKENS, SPEC.vocabSize, seededRandom(SPEC.seed + 1));
  bf16Rows = await engineLogits('none');
});

afterAll(() => {
  if (dir) removeDir(dir);
});

describe.each<[QuantMethod, number]>([
  ['int8', 0.9],
  ['int4', 0.5],
  ['fp8', 0.7],
])('--quantization %s', (method, minTop1) => {
  it('matches the float64 reference of its own dequantized weights', async () => {
    const dequantized = checkpoint.tensors.map((t) =>
      LINEAR.test(t.name) ? { ...t, dtype: 'F32' as const, data: Float32Array.from(quantizeDequantize(t.data, t.shape[0], t.shape[1], method)) } : t,
    );
    const want = referenceLogits(checkpoint.config, lookupOf(dequantized), tokens);
    const rows = await engineLogits(method);
    expectLogitsClose(rows, want, 1e-3, method);
    // and it is not the unquantized model: the quantization changed the logits
    expect(compareLogits(rows, bf16Rows).maxDiff).toBeGreaterThan(0);
  });

  it('decodes (x rounded to int8 / bf16 for the dot products) with the top-1 token of that reference', async () => {
    const dequantized = checkpoint.tensors.map((t) =>
      LINEAR.test(t.name) ? { ...t, dtype: 'F32' as const, data: Float32Array.from(quantizeDequantize(t.data, t.shape[0], t.shape[1], method)) } : t,
    );
    const want = referenceLogits(checkpoint.config, lookupOf(dequantized), tokens).slice(DECODE_PROMPT - 1);
    const engine = await loadEngine(dir, { quantization: method });
    const rows = await new EngineDriver(engine).runDecode(tokens.slice(0, DECODE_PROMPT), tokens.slice(DECODE_PROMPT)).finally(() => engine.dispose());
    const agree = rows.filter((row, i) => argmax(row) === argmax(want[i])).length / rows.length;
    const diff = compareLogits(rows, want);
    console.log(`${method} decode vs its dequantized reference over ${rows.length} steps: top-1 agreement ${(agree * 100).toFixed(1)} %, max |diff| / max |logit| ${diff.relative.toExponential(2)}`);
    expect(agree).toBeGreaterThanOrEqual(0.9);
    expect(diff.relative).toBeLessThanOrEqual(5e-2);
  });

  it('keeps the top-1 token of the bf16 model at most positions', async () => {
    const rows = await engineLogits(method);
    const agree = rows.filter((row, i) => argmax(row) === argmax(bf16Rows[i])).length / rows.length;
    const diff = compareLogits(rows, bf16Rows);
    console.log(`${method} vs bf16 over ${rows.length} positions: top-1 agreement ${(agree * 100).toFixed(1)} %, max |diff| / max |logit| ${diff.relative.toExponential(2)}`);
    expect(agree).toBeGreaterThanOrEqual(minTop1);
  });
});

it('refuses an unknown quantization with one clear error', async () => {
  await expect(loadEngine(dir, { quantization: 'int3' as Quantization })).rejects.toThrow(/quantization 'int3' is not one of int8, int4, fp8/);
});
