// GPT-2's byte-level alphabet (bytes_to_unicode): each byte maps to one printable character, so
// byte-level BPE works on strings. Printable Latin-1 bytes map to themselves, the other 68 bytes to
// U+0100.. in byte order (space -> 'Ġ', newline -> 'Ċ').
// Tests: npx vitest run libs/tiny-model

function buildByteToChar(): string[] {
  const printable: number[] = [];
  const range = (from: number, to: number): void => {
    for (let b = from; b <= to; b++) printable.push(b);
  };
  range(0x21, 0x7e); // '!'..'~'
  range(0xa1, 0xac); // '¡'..'¬'
  range(0xae, 0xff); // '®'..'ÿ'
  const isPrintable = new Set(printable);
  const map: string[] = new Array<string>(256);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    map[b] = String.fromCodePoint(isPrintable.has(b) ? b : 256 + next++);
  }
  return map;
}

/** byte -> alphabet character */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

/** The 256 alphabet characters in code point order: the order of the byte tokens in Seed-OSS's vocab. */
export const BYTE_LEVEL_ALPHABET: readonly string[] = [...BYTE_TO_CHAR].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);

const utf8 = new TextEncoder();

/** Text -> its UTF-8 bytes written in the byte-level alphabet. */
export function toByteLevel(text: string): string {
  let out = '';
  for (const byte of utf8.encode(text)) out += BYTE_TO_CHAR[byte];
  return out;
}
