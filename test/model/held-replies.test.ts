// Held replies (StepInput.holdReply, what `tpserve generate` sends): seeded decode steps queued behind a
// long prefill, all sent before any reply, give the same tokens as without holding; the replies
// of the steps that had two or more queued behind them arrive together in one turn of the event
// loop, in call order, and the last ones as soon as the queue runs short; a failing step's error
// is not held back.
// Run: npx vitest run test/model/held-replies.test.ts (needs the built addon)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeEngine } from '../../libs/native/src/native-engine';
import { PLACEHOLDER_TOKEN, type StepInput, type StepOutput } from '../../libs/native/src/types';
import { ODD_SPECS } from '../helpers/checkpoint-specs';
import { loadEngine } from '../helpers/engine-driver';
import { makeTempDir, randomTokens, removeDir, seededRandom, writeRandomCheckpoint } from '../helpers/random-checkpoint';

const PROMPT_TOKENS = 3000; // a prefill long enough (~20 ms) that every decode is queued before it ends
const NUM_DECODES = 12;

interface Arrival {
  token: number;
  tick: number; // the event-loop turn the reply arrived in
}

describe('held replies', () => {
  const spec = ODD_SPECS['seed-gqa-f32'];
  let dir = '';
  let engine: NativeEngine;
  let nextSeq = 1;
  let nextStep = 1;
  beforeAll(async () => {
    dir = makeTempDir('held-replies');
    writeRandomCheckpoint(dir, spec);
    // one engine thread: the JS thread keeps a core of its own, so unheld replies arrive one by one
    engine = await loadEngine(dir, { numThreads: 1, numKvBlocks: Math.ceil((PROMPT_TOKENS + NUM_DECODES) / 16) + 4 });
  });
  afterAll(() => {
    engine?.dispose();
    if (dir) removeDir(dir);
  });

  /** A prefill and NUM_DECODES placeholder decodes of one new sequence, all sent at once. */
  async function sendAll(hold: boolean, badDecode?: number): Promise<{ arrivals: (Arrival | Error)[]; prefill: StepOutput }> {
    const seqId = nextSeq++;
    const blockSize = engine.info().kvBlockSize;
    const prompt = randomTokens(PROMPT_TOKENS, spec.vocabSize, seededRandom(spec.seed + 41));
    let tick = 0;
    let counting = true;
    const count = (): void => {
      tick++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    let blocks = 0;
    const step = (tokens: number[], startPos: number, first: boolean, extra: Partial<StepInput>): Promise<StepOutput> => {
      const newBlockIds: number[] = [];
      for (; blocks < Math.ceil((startPos + tokens.length) / blockSize); blocks++) newBlockIds.push(blocks);
      return engine.step({
        stepId: nextStep++,
        newSequences: first ? [{ seqId, params: { temperature: 1, seed: 7 }, numPromptTokens: prompt.length }] : [],
        scheduled: [{ seqId, tokens, startPos, newBlockIds, sample: true, logits: 'none' }],
        finished: [],
        shareSamples: true,
        ...extra,
      });
    };
    const prefill = step(prompt, 0, true, {});
    const decodes: Promise<Arrival | Error>[] = [];
    for (let i = 0; i < NUM_DECODES; i++) {
      const token = i === badDecode ? spec.vocabSize + 5 : PLACEHOLDER_TOKEN; // an id outside the vocabulary fails that step
      decodes.push(
        step([token], PROMPT_TOKENS + i, false, hold ? { holdReply: true } : {}).then(
          (out) => ({ token: out.samples[0]!.token, tick }),
          (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
        ),
      );
    }
    const arrivals = await Promise.all(decodes);
    counting = false;
    const out = { arrivals, prefill: await prefill };
    await engine.step({ stepId: nextStep++, newSequences: [], scheduled: [], finished: [seqId] });
    return out;
  }

  it('gives the tokens of unheld replies, the held ones together in one turn, in order', async () => {
    const plain = await sendAll(false);
    const held = await sendAll(true);
    const tokens = (a: (Arrival | Error)[]): number[] => a.map((x) => (x instanceof Error ? -1 : x.token));
    expect(tokens(held.arrivals)).toEqual(tokens(plain.arrivals));
    expect(held.prefill.samples[0]!.token).toBe(plain.prefill.samples[0]!.token);
    expect(new Set(tokens(plain.arrivals)).size).toBeGreaterThan(1); // not a degenerate repeat of one id
    const ticks = held.arrivals.map((a) => (a as Arrival).tick);
    // decodes 0 .. N-2 each had >= 2 steps queued behind it until the second-to-last one ended
    expect(new Set(ticks.slice(0, NUM_DECODES - 1)).size).toBe(1);
    // in call order: a reply never arrives in an earlier turn than one sent before it
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]).toBeGreaterThanOrEqual(ticks[i - 1]!);
  });

  it('delivers a failing step at once: its error and the replies held before it', async () => {
    const bad = 3;
    const { arrivals } = await sendAll(true, bad);
    const err = arrivals[bad];
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/vocab|token/i);
    const before = arrivals.slice(0, bad) as Arrival[];
    for (const a of before) expect(a).not.toBeInstanceOf(Error);
    // held until the failure, then handed over with it in one turn
    expect(new Set(before.map((a) => a.tick)).size).toBe(1);
  });
});
