// Seed-OSS's added tokens at their real ids: 0..2 bos/pad/eos (special), 3..8 think, budget
// reflect and tool-call markers (special=false, so decode(skip_special_tokens) keeps them), and
// placeholders 9..127 '<[PLHD{id}_never_used]>' (special), exactly as in Seed-OSS's tokenizer.json.

export interface AddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export const SEED_BOS = '<seed:bos>';
export const SEED_PAD = '<seed:pad>';
export const SEED_EOS = '<seed:eos>';

const NAMED_TOKENS: ReadonlyArray<[string, boolean]> = [
  [SEED_BOS, true],
  [SEED_PAD, true],
  [SEED_EOS, true],
  ['<seed:think>', false],
  ['</seed:think>', false],
  ['<seed:cot_budget_reflect>', false],
  ['</seed:cot_budget_reflect>', false],
  ['<seed:tool_call>', false],
  ['</seed:tool_call>', false],
];

/** Number of reserved ids before the byte-level tokens (the first regular token is id 128). */
export const NUM_RESERVED_TOKENS = 128;

export function seedOssAddedTokens(): AddedToken[] {
  const tokens: AddedToken[] = [];
  for (let id = 0; id < NUM_RESERVED_TOKENS; id++) {
    const [content, special] = id < NAMED_TOKENS.length ? NAMED_TOKENS[id] : [`<[PLHD${id}_never_used]>`, true];
    tokens.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special });
  }
  return tokens;
}
