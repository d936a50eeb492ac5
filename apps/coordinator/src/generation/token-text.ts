// TokenText: the `token` string and `bytes` of one token id for logprobs, as vLLM reports them:
// the token decoded on its own (a piece of a multi-byte character shows as U+FFFD) and its exact
// bytes — recovered from the byte-level BPE vocabulary string (GPT-2's bytes_to_unicode map), or
// the UTF-8 of the decoded text for added tokens and non-byte-level vocabularies. Cached per id.
import type { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';

export interface TokenTextEntry {
  text: string;
  bytes: number[];
}

/** GPT-2's unicode → byte table (inverse of bytes_to_unicode). */
function byteDecoder(): Map<string, number> {
  const bytes: number[] = [];
  for (let b = 33; b <= 126; b++) bytes.push(b);
  for (let b = 161; b <= 172; b++) bytes.push(b);
  for (let b = 174; b <= 255; b++) bytes.push(b);
  const chars = bytes.map((b) => String.fromCharCode(b));
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(String.fromCharCode(256 + n++));
    }
  }
  return new Map(chars.map((c, i) => [c, bytes[i]]));
}

const BYTE_DECODER = byteDecoder();

export class TokenText {
  private readonly cache = new Map<number, TokenTextEntry>();

  constructor(private readonly tokenizer: Tokenizer) {}

  get(id: number): TokenTextEntry {
    let entry = this.cache.get(id);
    if (entry === undefined) {
      entry = this.compute(id);
      this.cache.set(id, entry);
    }
    return entry;
  }

  private compute(id: number): TokenTextEntry {
    const text = this.tokenizer.decode([id]);
    const piece = this.tokenizer.idsToTokens([id])[0];
    if (piece !== undefined && !this.tokenizer.addedTokens.has(piece)) {
      const bytes = [...piece].map((c) => BYTE_DECODER.get(c));
      if (bytes.every((b) => b !== undefined)) return { text, bytes: bytes as number[] };
    }
    return { text, bytes: [...Buffer.from(piece !== undefined && this.tokenizer.addedTokens.has(piece) ? piece : text, 'utf8')] };
  }
}
