// TurnBatchedText with the real Seed-OSS tokenizer: tokens pushed in one event-loop turn are
// written together at its end, and everything written equals decode() of all the ids.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { seedOssTokenizerJson } from '../../../../test/helpers/seed-oss-fixtures';
import { IncrementalDetokenizer } from '../../../../libs/tokenizer/src/incremental-detokenizer';
import { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';
import { TurnBatchedText } from './turn-batched-text';

const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-turn-text-'));
fs.writeFileSync(path.join(modelDir, 'tokenizer.json'), seedOssTokenizerJson());
const tokenizer = Tokenizer.fromModelDir(modelDir);
afterAll(() => fs.rmSync(modelDir, { recursive: true, force: true }));

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TurnBatchedText', () => {
  it('writes the tokens of a turn once, at its end, and the whole text equals decode()', async () => {
    const ids = tokenizer.encode('Hello 世界 😀, the quick brown fox jumps over the lazy dog.');
    const writes: string[] = [];
    const text = new TurnBatchedText(new IncrementalDetokenizer(tokenizer), (piece) => writes.push(piece));
    const turns = [ids.slice(0, 3), ids.slice(3, 4), ids.slice(4)];
    for (const turn of turns) {
      for (const id of turn) text.push(id);
      expect(writes.length).toBeLessThanOrEqual(turns.indexOf(turn)); // nothing of this turn yet
      await nextTurn();
    }
    expect(writes.length).toBeLessThanOrEqual(turns.length); // at most one write a turn
    text.finish();
    expect(writes.join('')).toBe(tokenizer.decode(ids));
  });

  it('finish() writes what was queued in the same turn, with the held-back end', () => {
    const writes: string[] = [];
    const text = new TurnBatchedText(new IncrementalDetokenizer(tokenizer), (piece) => writes.push(piece));
    const ids = [...tokenizer.encode('ok'), tokenizer.tokenToId('ĠðŁĺ')!]; // ends in half an emoji
    for (const id of ids) text.push(id);
    text.finish();
    // the turn's text ends in half a character, so it is held back until the end of the stream
    expect(writes).toEqual(['ok \uFFFD']);
  });
});
