// The vocabulary as byte strings, indexed once per tokenizer for mask computation: every text
// token's bytes (byte-level BPE symbols mapped back to bytes), sorted so that tokens sharing a
// prefix are adjacent with their common-prefix length (a trie laid out flat), and the "plain" text
// tokens (no quote, backslash, '<', control byte or partial UTF-8) with their code-point counts,
// which any unconstrained string accepts without walking. Special added tokens (eos) and Seed's
// control tags (<seed:think>, the tool-call tags) are not text: grammars name them as whole
// symbols; other non-special added tokens are the text they decode to. The byte strings are cheap
// (the coordinator's loaded tokenizer gives them, fromVocabulary); the sorted parts, which take
// seconds on the 155K Seed vocabulary, are built on first use (prepare(): the mask thread does it,
// mask-thread.ts, so the event loop never pays it). Tests: token-mask.spec.ts, vocab-index.spec.ts.
import { BUDGET_REFLECT_END, BUDGET_REFLECT_START, THINK_END, THINK_START, TOOL_CALL_END, TOOL_CALL_START } from '../../chat-parsers/src/seed-tags';

const SEED_CONTROL_TAGS = new Set([THINK_START, THINK_END, BUDGET_REFLECT_START, BUDGET_REFLECT_END, TOOL_CALL_START, TOOL_CALL_END]);

/** Tokens sorted by bytes, with lcp[k] = common prefix length of tokens k-1 and k. */
export interface SortedTokens {
  ids: Int32Array;
  lcp: Int32Array;
}

/** Plain tokens of one string mode, with their code points. */
export interface PlainTokens {
  ids: Int32Array;
  codePoints: Int32Array;
  /** The other text tokens, which a string state must walk. */
  rest: SortedTokens;
}

/** A tokenizer's vocabulary as the index takes it (from tokenizer.json, or a loaded Tokenizer). */
export interface Vocabulary {
  /** The model's tokens (vocabulary strings, e.g. "Ġworld") by id. */
  tokens: Iterable<[string, number]>;
  added: ReadonlyArray<{ id: number; content: string; special?: boolean }>;
  /** GPT-2 byte-level symbols (else SentencePiece-style "▁" and "<0xHH>"). */
  isByteLevel: boolean;
}

interface SortedParts {
  all: SortedTokens;
  quotedPlain: PlainTokens;
  rawPlain: PlainTokens;
}

export class VocabIndex {
  /** Bytes of each text token; null for added tokens and unused ids. */
  readonly bytes: Array<Uint8Array | null>;
  readonly addedTokens: ReadonlyMap<string, number>;
  private parts: SortedParts | undefined;

  constructor(readonly vocabSize: number, bytes: Array<Uint8Array | null>, addedTokens: ReadonlyMap<string, number>) {
    this.bytes = bytes;
    this.addedTokens = addedTokens;
  }

  get all(): SortedTokens {
    return this.prepare().all;
  }

  get quotedPlain(): PlainTokens {
    return this.prepare().quotedPlain;
  }

  get rawPlain(): PlainTokens {
    return this.prepare().rawPlain;
  }

  /** Builds the sorted parts (once; seconds on a 155K vocabulary). */
  prepare(): SortedParts {
    if (this.parts) return this.parts;
    const bytes = this.bytes;
    const textIds: number[] = [];
    for (let id = 0; id < bytes.length; id++) if (bytes[id] && bytes[id]!.length > 0) textIds.push(id);
    // latin1 strings order like their bytes, and the engine's string sort is far faster than a byte comparator
    const keys: string[] = new Array(bytes.length);
    for (const id of textIds) keys[id] = String.fromCharCode(...bytes[id]!);
    textIds.sort((a, b) => {
      const ka = keys[a], kb = keys[b];
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    this.parts = {
      all: this.sorted(textIds),
      quotedPlain: this.plain(textIds, (b) => b === 0x22 || b === 0x5c),
      rawPlain: this.plain(textIds, (b) => b === 0x3c),
    };
    return this.parts;
  }

  /** From a Hugging Face tokenizer.json (ByteLevel or byte-fallback vocabularies). */
  static fromTokenizerJson(json: Record<string, unknown>, vocabSize?: number): VocabIndex {
    const model = json.model as { vocab?: Record<string, number> } | undefined;
    return VocabIndex.fromVocabulary({
      tokens: Object.entries(model?.vocab ?? {}),
      added: (json.added_tokens ?? []) as Vocabulary['added'],
      isByteLevel: JSON.stringify(json.decoder ?? '').includes('ByteLevel'),
    }, vocabSize);
  }

  /** From a vocabulary (the byte strings only: the sorted parts wait for prepare()). */
  static fromVocabulary(vocabulary: Vocabulary, vocabSize?: number): VocabIndex {
    const { added } = vocabulary;
    const addedIds = new Set(added.map((t) => t.id));
    const tokens = [...vocabulary.tokens];
    let size = vocabSize ?? 0;
    for (const [, id] of tokens) size = Math.max(size, id + 1);
    for (const t of added) size = Math.max(size, t.id + 1);
    const decodeSymbol = vocabulary.isByteLevel ? byteLevelDecoder() : byteFallbackDecoder;
    const bytes: Array<Uint8Array | null> = new Array(size).fill(null);
    for (const [token, id] of tokens) if (!addedIds.has(id)) bytes[id] = decodeSymbol(token);
    // an added token that is not special decodes as its text, so the model may spell that text
    // with it; Seed's control tags stay symbols only (the grammar places them, never as text)
    const utf8 = new TextEncoder();
    for (const t of added) if (t.special === false && !SEED_CONTROL_TAGS.has(t.content)) bytes[t.id] = utf8.encode(t.content);
    return new VocabIndex(size, bytes, new Map(added.map((t) => [t.content, t.id])));
  }

  private sorted(ids: number[]): SortedTokens {
    const lcp = new Int32Array(ids.length);
    for (let k = 1; k < ids.length; k++) lcp[k] = commonPrefix(this.bytes[ids[k - 1]]!, this.bytes[ids[k]]!);
    return { ids: Int32Array.from(ids), lcp };
  }

  private plain(sortedIds: number[], excluded: (byte: number) => boolean): PlainTokens {
    const ids: number[] = [], cps: number[] = [], rest: number[] = [];
    for (const id of sortedIds) {
      const n = plainCodePoints(this.bytes[id]!, excluded);
      if (n < 0) rest.push(id);
      else ids.push(id), cps.push(n);
    }
    return { ids: Int32Array.from(ids), codePoints: Int32Array.from(cps), rest: this.sorted(rest) };
  }
}

/** Code points of a token made of whole UTF-8 characters >= 0x20 none of which is excluded; else -1. */
function plainCodePoints(b: Uint8Array, excluded: (byte: number) => boolean): number {
  let count = 0;
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    if (c < 0x20 || c === 0x7f || excluded(c)) return -1;
    const len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len === 0 || i + len > b.length) return -1;
    if (len > 1 && !isUtf8Char(b, i, len)) return -1;
    i += len;
    count++;
  }
  return count;
}

function isUtf8Char(b: Uint8Array, i: number, len: number): boolean {
  const c = b[i];
  const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
  const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
  if (b[i + 1] < lo || b[i + 1] > hi) return false;
  for (let j = 2; j < len; j++) if (b[i + j] < 0x80 || b[i + j] > 0xbf) return false;
  return true;
}

function commonPrefix(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** GPT-2's bytes_to_unicode, inverted: vocabulary characters back to bytes (a lookup table). */
function byteLevelDecoder(): (token: string) => Uint8Array {
  const table = new Int16Array(324).fill(0x3f);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    table[printable ? b : 256 + extra++] = b;
  }
  return (token) => {
    const out = new Uint8Array(token.length);
    for (let i = 0; i < token.length; i++) {
      const c = token.charCodeAt(i);
      out[i] = c < table.length ? table[c] : 0x3f;
    }
    return out;
  };
}

/** SentencePiece-style vocabularies: "▁" is a space, "<0xHH>" one byte. */
function byteFallbackDecoder(token: string): Uint8Array {
  const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
  if (m) return Uint8Array.of(Number.parseInt(m[1], 16));
  return new TextEncoder().encode(token.replace(/\u2581/g, ' '));
}
