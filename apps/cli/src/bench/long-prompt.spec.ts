// promptOfTokens against a real tokenizer (a tiny model's generated one): the prompt has exactly
// the asked number of tokens.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../../../libs/tiny-model/src/make-tiny-model';
import { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';
import { promptOfTokens } from './long-prompt';

const dir = mkdtempSync(join(tmpdir(), 'tpserve-long-prompt-'));
makeTinyModel({ outDir: dir, numLayers: 1, hiddenSize: 16, headDim: 8, intermediateSize: 16 });
const tokenizer = Tokenizer.fromModelDir(dir);
const count = (text: string): Promise<number> => Promise.resolve(tokenizer.encode(text).length);

describe('promptOfTokens', () => {
  it.each([1, 2, 3, 17, 1000, 4099])('makes a prompt of exactly %i tokens', async (n) => {
    const text = await promptOfTokens(count, n);
    expect(tokenizer.encode(text).length).toBe(n);
  });
});
