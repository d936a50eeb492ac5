// Incremental detokenization with the real Seed-OSS tokenizer: token-by-token pieces concatenate
// to decode(all ids) and never carry a U+FFFD the full text lacks (emoji/CJK bytes split over
// several tokens are held back), for every fixture and for random unicode strings.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSeedOssJson, seedOssTokenizerJson } from '../../../test/helpers/seed-oss-fixtures';
import { IncrementalDetokenizer } from './incremental-detokenizer';
import { Tokenizer } from './tokenizer';

const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-seed-detok-'));
fs.writeFileSync(
  path.join(modelDir, 'tokenizer.json'),
  seedOssTokenizerJson(),
);
const tokenizer = Tokenizer.fromModelDir(modelDir);
afterAll(() => fs.rmSync(modelDir, { recursive: true, force: true }));

const fixtures = readSeedOssJson('tokenizer_summary.json').fixtures.cases as Array<{ text: string; ids: number[] }>;

function detokenize(ids: number[], skipSpecialTokens = false): string[] {
  const detokenizer = new IncrementalDetokenizer(tokenizer, { skipSpecialTokens });
  const pieces = ids.map((id) => detokenizer.push(id));
  pieces.push(detokenizer.flush());
  expect(detokenizer.text).toBe(pieces.join(''));
  return pieces;
}

function expectStreamsLikeDecode(ids: number[], skipSpecialTokens = false): number {
  const full = tokenizer.decode(ids, { skipSpecialTokens });
  const pieces = detokenize(ids, skipSpecialTokens);
  expect(pieces.join('')).toBe(full);
  if (!full.includes('\uFFFD')) for (const piece of pieces) expect(piece).not.toContain('\uFFFD');
  return pieces.slice(0, -1).filter((p) => p === '').length; // tokens held back
}

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  '😀', '👍🏽', '👨‍👩‍👧', '🇯🇵', '❤️', '🧪', '𝔘𝔫𝔦', '你好', '世界', '日本語', '한국어', '漢字', 'の', '，', '！',
  'é', 'ñ', 'ü', 'Å', 'ç', 'ő', 'e\u0301', 'Ωμέγα', 'Привет', 'مرحبا', 'नमस्ते', 'ไทย',
  'Hello', ' world', ' ', '  ', '\n', '\n\n', '\t', '123', '!?', '—', '€', "'s", '<seed:think>', '</seed:tool_call>',
];

describe('IncrementalDetokenizer (Seed-OSS)', () => {
  it.each(fixtures.map((f) => [f.text, f.ids] as const))('streams fixture %j like decode()', (_text, ids) => {
    expectStreamsLikeDecode(ids);
    expectStreamsLikeDecode(ids, true);
  });

  it('streams random unicode strings (emoji, CJK, accents, mixed) like decode()', () => {
    const random = mulberry32(7);
    let numHeld = 0;
    for (let round = 0; round < 300; round++) {
      const numPieces = 1 + Math.floor(random() * 12);
      const text = Array.from({ length: numPieces }, () => PIECES[Math.floor(random() * PIECES.length)]).join('');
      const ids = tokenizer.encode(text);
      expect(tokenizer.decode(ids)).toBe(text.normalize('NFC'));
      numHeld += expectStreamsLikeDecode(ids);
    }
    expect(numHeld).toBeGreaterThan(50); // multi-byte characters really were split across tokens
  });

  it('streams random unicode strings pushed in random runs (pushMany) like decode()', () => {
    const random = mulberry32(11);
    for (let round = 0; round < 200; round++) {
      const numPieces = 1 + Math.floor(random() * 12);
      const text = Array.from({ length: numPieces }, () => PIECES[Math.floor(random() * PIECES.length)]).join('');
      const ids = tokenizer.encode(text);
      for (const skipSpecialTokens of [false, true]) {
        const detokenizer = new IncrementalDetokenizer(tokenizer, { skipSpecialTokens });
        const pieces: string[] = [];
        for (let i = 0; i < ids.length; ) {
          const run = 1 + Math.floor(random() * 5);
          pieces.push(detokenizer.pushMany(ids.slice(i, i + run)));
          i += run;
        }
        pieces.push(detokenizer.flush());
        const full = tokenizer.decode(ids, { skipSpecialTokens });
        expect(pieces.join('')).toBe(full);
        if (!full.includes('\uFFFD')) for (const piece of pieces) expect(piece).not.toContain('\uFFFD');
      }
    }
  });

  it('holds back an emoji split over two byte-level tokens until its last byte', () => {
    const ids = tokenizer.encode(' 😀');
    expect(tokenizer.idsToTokens(ids)).toEqual(['ĠðŁĺ', 'Ģ']);
    const detokenizer = new IncrementalDetokenizer(tokenizer);
    expect(detokenizer.push(ids[0])).toBe('');
    expect(detokenizer.push(ids[1])).toBe(' 😀');
  });

  it('releases a trailing incomplete byte sequence only on flush()', () => {
    const detokenizer = new IncrementalDetokenizer(tokenizer);
    expect(detokenizer.pushMany(tokenizer.encode('ok'))).toBe('ok');
    expect(detokenizer.push(tokenizer.tokenToId('ĠðŁĺ')!)).toBe('');
    expect(detokenizer.flush()).toBe(' \uFFFD');
  });

  it('skips special tokens when asked and uses prompt ids only as context', () => {
    const prompt = tokenizer.encode('<seed:bos>assistant\n');
    const detokenizer = new IncrementalDetokenizer(tokenizer, { skipSpecialTokens: true, promptIds: prompt });
    const out = [...tokenizer.encode('<seed:think>Hi 你好</seed:think>'), 2].map((id) => detokenizer.push(id)).join('') + detokenizer.flush();
    expect(out).toBe('<seed:think>Hi 你好</seed:think>');
  });
});
