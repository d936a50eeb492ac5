// Structured outputs beside plain streams on a real worker group (tp 1, a random tiny model, the
// real mask thread): while constrained requests with fresh schemas are admitted, every plain
// stream is in every step until it ends (none waits for a mask), no mask is walked on the event
// loop (their misses go to the mask thread: the main grammars count no miss), and every
// constrained reply that stops parses and validates against its schema (ajv).
import Ajv from 'ajv';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepInput } from '../../../../libs/native/src/types';
import { makeTinyModel } from '../../../../libs/tiny-model/src/make-tiny-model';
import { toServerConfig } from '../config/server-config';
import type { FinishEvent, SequenceRequest } from '../engine/engine-request';
import { EngineLoopService } from '../engine/engine-loop.service';
import { ModelRuntime } from '../engine/model-runtime';
import { MetricsService } from '../metrics/metrics.service';
import { StructuredOutputService } from './structured-output.service';

let dir: string;
let runtime: ModelRuntime;
let engine: EngineLoopService;
let structured: StructuredOutputService;
const steps: number[][] = []; // the sampled sequence ids of every step sent

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-constrained-batch-'));
  makeTinyModel({ outDir: path.join(dir, 'tiny') });
  const config = toServerConfig({ model: path.join(dir, 'tiny'), tp: 1, threadsPerRank: 1, maxNumSeqs: 16 });
  runtime = await ModelRuntime.load(config, () => undefined);
  const step = runtime.executor.step.bind(runtime.executor);
  runtime.executor.step = (input: StepInput) => {
    steps.push(input.scheduled.filter((s) => s.sample).map((s) => s.seqId));
    return step(input);
  };
  engine = new EngineLoopService(runtime, new MetricsService());
  structured = new StructuredOutputService(runtime);
});

afterAll(async () => {
  await structured?.onModuleDestroy();
  await engine?.onModuleDestroy();
  await runtime?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function submit(prompt: number[], maxTokens: number, extra: Partial<SequenceRequest> = {}): { id: number; tokens: number[]; finished: Promise<FinishEvent> } {
  const tokens: number[] = [];
  let resolve!: (e: FinishEvent) => void;
  const finished = new Promise<FinishEvent>((r) => (resolve = r));
  const id = engine.submit({ promptTokens: prompt, params: { temperature: 1, seed: 7 }, maxTokens, listener: { onToken: (e) => tokens.push(e.token), onFinish: resolve }, ...extra });
  return { id, tokens, finished };
}

describe('constrained requests beside plain streams', () => {
  it('keep every plain stream in every step and validate', async () => {
    const plain = [[5, 6, 7], [40, 41], [9, 19, 29, 39], [100, 3]].map((p) => submit(p, 48, { ignoreEos: true }));
    await new Promise((r) => setTimeout(r, 30));
    const schemas = Array.from({ length: 6 }, (_, i) => ({
      type: 'object',
      properties: { [`k${i}`]: { enum: [`v${i}a`, `v${i}b`] }, n: { type: 'integer', minimum: 0, maximum: 9 }, ok: { type: 'boolean' } },
      required: [`k${i}`, 'n', 'ok'],
      additionalProperties: false,
    }));
    const constrained = schemas.map((schema, i) => {
      const factory = structured.constraintFactory({ kind: 'json_schema', schema }, { allowThinking: false, startsInReasoning: false })!;
      return submit([60 + i, 61 + i], 64, { constraint: factory() });
    });
    const plainEnds = await Promise.all(plain.map((r) => r.finished));
    plainEnds.forEach((e) => expect(e.reason).toBe('length'));
    const ids = plain.map((r) => r.id);
    const last = new Map<number, number>(), first = new Map<number, number>();
    steps.forEach((s, k) => s.forEach((id) => (first.has(id) || first.set(id, k), last.set(id, k))));
    for (const id of ids) {
      for (let k = first.get(id)!; k <= last.get(id)!; k++) expect(steps[k], `plain stream ${id} missing from step ${k}`).toContain(id);
    }
    const ajv = new Ajv({ strict: false });
    let numStopped = 0;
    for (const [i, run] of constrained.entries()) {
      const end = await run.finished;
      if (end.reason !== 'stop') continue;
      numStopped++;
      const text = runtime.tokenizer.decode(run.tokens, { skipSpecialTokens: true });
      expect(ajv.validate(schemas[i], JSON.parse(text)), text).toBe(true);
    }
    expect(numStopped).toBeGreaterThan(0);
    // every mask of the fresh schemas came from the mask thread
    expect(structured.masks.stats.numJobs).toBeGreaterThan(schemas.length);
    expect(structured.masks.isFallback).toBe(false);
    for (const schema of schemas) expect(structured.compiler.compile({ kind: 'json_schema', schema }).numMaskMisses).toBe(0);
  });
});
