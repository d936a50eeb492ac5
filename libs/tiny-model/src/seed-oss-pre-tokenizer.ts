// Seed-OSS's Split pre-tokenizer regex, translated from Oniguruma to a JavaScript RegExp (Node 20
// has no inline `(?i:...)` groups, so the contractions are spelled out case by case). Used by the
// BPE trainer so that merges are learned inside the same pieces the tokenizer will produce.
// Tests: npx vitest run libs/tiny-model

/** The pattern exactly as it appears in Seed-OSS's tokenizer.json (pre_tokenizer Split). */
export const SEED_OSS_SPLIT_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const SPLIT_REGEX = new RegExp(
  "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]" +
    '|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+',
  'gu',
);

/** Splits text into pre-tokens (behavior "Isolated": every match is its own piece). */
export function preTokenize(text: string): string[] {
  return text.match(SPLIT_REGEX) ?? [];
}
