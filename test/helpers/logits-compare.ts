// Comparing logits rows: the largest absolute difference relative to the largest |logit| of the
// expected (reference) rows, with a readable failure message.
import { expect } from 'vitest';

export interface LogitsDiff {
  maxDiff: number;
  maxRef: number;
  /** maxDiff / maxRef */
  relative: number;
  /** [row, column] of maxDiff */
  at: [number, number];
}

export function compareLogits(actual: ArrayLike<number>[], expected: ArrayLike<number>[]): LogitsDiff {
  if (actual.length !== expected.length) throw new Error(`compareLogits: ${actual.length} rows vs ${expected.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  let at: [number, number] = [0, 0];
  expected.forEach((row, r) => {
    if (actual[r].length !== row.length) throw new Error(`compareLogits: row ${r} has ${actual[r].length} columns vs ${row.length}`);
    for (let c = 0; c < row.length; c++) {
      const diff = Math.abs(actual[r][c] - row[c]);
      // NaN must fail, so compare with !(diff <= maxDiff)
      if (!(diff <= maxDiff)) [maxDiff, at] = [diff, [r, c]];
      maxRef = Math.max(maxRef, Math.abs(row[c]));
    }
  });
  return { maxDiff, maxRef, relative: maxDiff / maxRef, at };
}

export function expectLogitsClose(actual: ArrayLike<number>[], expected: ArrayLike<number>[], tolerance: number, label = ''): void {
  const d = compareLogits(actual, expected);
  const message = `${label}: max |diff| ${d.maxDiff.toExponential(3)} at [${d.at}] vs max |logit| ${d.maxRef.toFixed(3)}`;
  expect(d.relative, message).toBeLessThanOrEqual(tolerance);
}

export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** Gap between the best and second-best logit of a row. */
export function topTwoGap(row: ArrayLike<number>): number {
  const best = argmax(row);
  let second = -Infinity;
  for (let i = 0; i < row.length; i++) if (i !== best) second = Math.max(second, row[i]);
  return row[best] - second;
}
