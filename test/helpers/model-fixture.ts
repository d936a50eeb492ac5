// A random checkpoint plus a loaded engine for one describe block: written and loaded in
// beforeAll, disposed and deleted in afterAll. Also memoizes the float64 reference's logits.
import { afterAll, beforeAll } from 'vitest';
import type { NativeEngine } from '../../libs/native/src/native-engine';
import type { EngineOptions } from '../../libs/native/src/types';
import { referenceLogits } from '../reference/reference-model';
import { ODD_SPECS } from './checkpoint-specs';
import { EngineDriver, loadEngine } from './engine-driver';
import { makeTempDir, removeDir, writeRandomCheckpoint, type CheckpointSpec, type RandomCheckpoint } from './random-checkpoint';

export interface ModelFixture {
  spec: CheckpointSpec;
  checkpoint: RandomCheckpoint;
  engine: NativeEngine;
  /** The one driver of this engine (it owns the block allocator and sequence positions). */
  driver: EngineDriver;
  /** Reference logits [T][vocab] of a whole token sequence. */
  reference(tokens: number[]): Float64Array[];
}

/** Registers the hooks; call the returned getter inside tests. */
export function useModelFixture(specName: string, options: Partial<EngineOptions> = {}): () => ModelFixture {
  const spec = ODD_SPECS[specName];
  if (!spec) throw new Error(`no checkpoint spec '${specName}'`);
  let fixture: ModelFixture | undefined;
  let dir: string | undefined;

  beforeAll(async () => {
    dir = makeTempDir(specName);
    const checkpoint = writeRandomCheckpoint(dir, spec);
    const engine = await loadEngine(dir, options);
    const cache = new Map<string, Float64Array[]>();
    fixture = {
      spec,
      checkpoint,
      engine,
      driver: new EngineDriver(engine),
      reference: (tokens) => {
        const key = tokens.join(',');
        if (!cache.has(key)) cache.set(key, referenceLogits(checkpoint.config, checkpoint.weights, tokens));
        return cache.get(key)!;
      },
    };
  });

  afterAll(() => {
    fixture?.engine.dispose();
    if (dir) removeDir(dir);
  });

  return () => {
    if (!fixture) throw new Error(`model fixture '${specName}' did not load`);
    return fixture;
  };
}
