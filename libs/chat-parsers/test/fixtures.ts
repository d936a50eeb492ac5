// Test-only helpers for the chat-parser specs: the Seed-OSS fixture files, a seeded PRNG, split
// generators for property tests, and a deterministic tool call id generator.

import { readSeedOssJson } from '../../../test/helpers/seed-oss-fixtures';

export function loadFixture<T>(name: string): T {
  return readSeedOssJson<T>(name);
}

import { mulberry32 as seededRandom } from '../../tiny-model/src/seeded-random';
export { seededRandom };

/** `text` cut at the given sorted offsets. */
export function splitAt(text: string, cuts: readonly number[]): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (const cut of cuts) {
    pieces.push(text.slice(start, cut));
    start = cut;
  }
  pieces.push(text.slice(start));
  return pieces;
}

/** Every way to cut `text` once, and (for short texts) twice: exhaustive boundary coverage. */
export function* exhaustiveSplits(text: string, maxDoubleCutLength = 90): Generator<string[]> {
  for (let i = 0; i <= text.length; i++) yield splitAt(text, [i]);
  if (text.length > maxDoubleCutLength) return;
  for (let i = 1; i < text.length; i++) {
    for (let j = i + 1; j < text.length; j++) yield splitAt(text, [i, j]);
  }
}

/** Random cuts with random piece lengths (1..maxPiece), `count` different splittings. */
export function* randomSplits(text: string, count: number, seed: number, maxPiece = 8): Generator<string[]> {
  const random = seededRandom(seed);
  for (let n = 0; n < count; n++) {
    const cuts: number[] = [];
    for (let at = 1 + Math.floor(random() * maxPiece); at < text.length; at += 1 + Math.floor(random() * maxPiece)) {
      cuts.push(at);
    }
    yield splitAt(text, cuts);
  }
  yield [...text]; // one character per delta
}

/** Ids call_0, call_1, … so results are comparable across runs. */
export function sequentialIds(): () => string {
  let n = 0;
  return () => `call_${n++}`;
}

/** Deep equality through JSON text: fast enough for thousands of splits; expect() runs on a mismatch only. */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
