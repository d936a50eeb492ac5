// Tokenizer: a Hugging Face tokenizer.json (+ tokenizer_config.json) loaded with
// @huggingface/tokenizers (pure JS). encode/decode as transformers' fast tokenizer does, with
// skip_special_tokens dropping only added tokens marked special=true in tokenizer.json (for
// Seed-OSS: <seed:bos>/<seed:pad>/<seed:eos> and the PLHD placeholders; the think, budget and
// tool-call tokens are special=false and stay). clean_up_tokenization_spaces follows the config
// and defaults to false (modern transformers, and what vLLM's streaming detokenizer produces).
// Usage: Tokenizer.fromModelDir(dir). Tests: tokenizer.spec.ts (real Seed-OSS tokenizer).
import * as fs from 'fs';
import * as path from 'path';

interface HfAddedToken {
  id: number;
  content: string;
  special: boolean;
}
/** The slice of @huggingface/tokenizers' Tokenizer used here (its .d.ts is not node16-resolvable). */
interface HfTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[]; tokens: string[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean; clean_up_tokenization_spaces?: boolean }): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
}
interface HfTokenizersModule {
  Tokenizer: new (tokenizerJson: object, config: object) => HfTokenizer;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Tokenizer: HfTokenizerCtor } = require('@huggingface/tokenizers') as HfTokenizersModule;

export interface EncodeOptions {
  /** Apply the post-processor's special tokens (BOS etc.); Seed-OSS adds none. Default false. */
  addSpecialTokens?: boolean;
}
export interface DecodeOptions {
  skipSpecialTokens?: boolean;
  cleanUpTokenizationSpaces?: boolean;
}

/** The string form of a token in tokenizer_config.json: a string or an AddedToken dict. */
function tokenContent(token: unknown): string | undefined {
  if (typeof token === 'string') return token;
  const content = (token as { content?: unknown } | null)?.content;
  return typeof content === 'string' ? content : undefined;
}

export class Tokenizer {
  private readonly hf: HfTokenizer;
  /** Added tokens (special or not) by content. */
  readonly addedTokens: ReadonlyMap<string, { id: number; special: boolean }>;
  /** Ids that decode(skipSpecialTokens) drops. */
  readonly specialIds: ReadonlySet<number>;
  /** Number of token ids the tokenizer defines (max id + 1); the model may pad its embedding. */
  readonly vocabSize: number;
  readonly bosToken?: string;
  readonly eosToken?: string;
  readonly padToken?: string;
  readonly unkToken?: string;
  private readonly cleanUpSpaces: boolean;
  /** The decoder maps GPT-2 byte-level symbols back to bytes (else SentencePiece-style). */
  readonly isByteLevel: boolean;

  constructor(tokenizerJson: Record<string, unknown>, config: Record<string, unknown> = {}) {
    const added = (tokenizerJson.added_tokens ?? []) as HfAddedToken[];
    // additional_special_tokens is left out on purpose: tokenizer.json's `special` flags decide skipping.
    const { additional_special_tokens: _unused, ...libraryConfig } = config;
    this.hf = new HfTokenizerCtor(tokenizerJson, { ...libraryConfig, clean_up_tokenization_spaces: false });
    this.addedTokens = new Map(added.map((t) => [t.content, { id: t.id, special: t.special }]));
    this.specialIds = new Set(added.filter((t) => t.special).map((t) => t.id));
    let maxId = -1;
    for (const id of this.hf.get_vocab(true).values()) maxId = Math.max(maxId, id);
    for (const t of added) maxId = Math.max(maxId, t.id);
    this.vocabSize = maxId + 1;
    this.bosToken = tokenContent(config.bos_token);
    this.eosToken = tokenContent(config.eos_token);
    this.padToken = tokenContent(config.pad_token);
    this.unkToken = tokenContent(config.unk_token);
    this.cleanUpSpaces = config.clean_up_tokenization_spaces === true;
    this.isByteLevel = JSON.stringify(tokenizerJson.decoder ?? '').includes('ByteLevel');
  }

  /** Loads <dir>/tokenizer.json and, when present, <dir>/tokenizer_config.json. */
  static fromModelDir(modelDir: string): Tokenizer {
    const read = (name: string): Record<string, unknown> | undefined => {
      const file = path.join(modelDir, name);
      return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : undefined;
    };
    const tokenizerJson = read('tokenizer.json');
    if (!tokenizerJson) throw new Error(`${path.join(modelDir, 'tokenizer.json')} not found`);
    return new Tokenizer(tokenizerJson, read('tokenizer_config.json'));
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.hf.encode(text, { add_special_tokens: options.addSpecialTokens ?? false }).ids;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const kept = options.skipSpecialTokens ? ids.filter((id) => !this.specialIds.has(id)) : [...ids];
    if (kept.length === 0) return '';
    return this.hf.decode(kept, { clean_up_tokenization_spaces: options.cleanUpTokenizationSpaces ?? this.cleanUpSpaces });
  }

  /** The vocabulary string of each id (byte-level form, e.g. "Ġworld"). */
  idsToTokens(ids: readonly number[]): Array<string | undefined> {
    return ids.map((id) => this.hf.id_to_token(id));
  }

  /** The model's vocabulary strings by id, added tokens left out (e.g. "Ġworld" → 1879). */
  modelVocabulary(): Map<string, number> {
    return this.hf.get_vocab(false);
  }

  /** Id of an added token (the Seed control tags: "<seed:think>", ...), or undefined where it is none. */
  addedTokenId(content: string): number | undefined {
    return this.addedTokens.get(content)?.id;
  }

  /** Id of a token given by its content ("<seed:think>", "Ġworld"), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.addedTokens.get(token)?.id ?? this.hf.token_to_id(token);
  }

  get bosTokenId(): number | undefined {
    return this.bosToken === undefined ? undefined : this.tokenToId(this.bosToken);
  }
  get eosTokenId(): number | undefined {
    return this.eosToken === undefined ? undefined : this.tokenToId(this.eosToken);
  }
  get padTokenId(): number | undefined {
    return this.padToken === undefined ? undefined : this.tokenToId(this.padToken);
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }
}
