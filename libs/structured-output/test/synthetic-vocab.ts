// A small byte-level vocabulary for the automaton tests: every single byte, JSON punctuation runs,
// words, digit runs, multi-byte UTF-8 characters (whole and split), and the Seed tags as added
// tokens, so a random walk over allowed tokens exercises every frame on realistic token shapes.
import { VocabIndex } from '../src/vocab-index';

export const EOS_ID = 0;
export const TOOL_CALL_START_ID = 1;
export const TOOL_CALL_END_ID = 2;

const PIECES = [
  '{"', '"}', '":', '","', '",', '":"', '"', '{', '}', '[', ']', '[]', '{}', '[{', '}]', '},{', ',"', '":[', '":{', '"]',
  'true', 'false', 'null', 'tr', 'ue', 'fa', 'lse', 'nu', 'll', 'the', ' the', 'name', ' name', 'id', 'value', 'Hello', ' world',
  'a', 'ab', 'abc', 'x', 'yz', '00', '12', '123', '2024', '-0', '-1', '0.', '.5', '1.', '99', '-', '.', '+', 'e', 'E',
  '\\n', '\\"', '\\\\', '\\u', '\\', '\n', '\n\n', '\t', ' ', '  ', 'é', 'ü', '日本', '語', '🙂', 'a"b', '"x"',
  '<function=', '<parameter=', '</parameter>', '</function>', '>\n', '\n<', '\n</', '</', '<', '=', 'get_weather', 'city',
  '-01-', '-12-', 'T', 'Z', ':00', ':59', '-', 'abcdef', '0123', '4567', '89ab', 'cdef',
];

export function syntheticVocab(): VocabIndex {
  const bytes: Array<Uint8Array | null> = [null, null, null];
  for (let b = 0; b < 256; b++) bytes.push(Uint8Array.of(b));
  const enc = new TextEncoder();
  for (const p of PIECES) bytes.push(enc.encode(p));
  // split UTF-8: the two halves of "é" and the first three bytes of "🙂"
  bytes.push(Uint8Array.of(0xc3), Uint8Array.of(0xf0, 0x9f, 0x99));
  const added = new Map([['<seed:eos>', EOS_ID], ['<seed:tool_call>', TOOL_CALL_START_ID], ['</seed:tool_call>', TOOL_CALL_END_ID]]);
  return new VocabIndex(bytes.length, bytes, added);
}
