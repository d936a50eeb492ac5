// A small deterministic byte-level BPE trainer, following Hugging Face's BpeTrainer: count words
// (pre-tokens in the byte-level alphabet), then repeatedly merge the most frequent adjacent pair,
// ties broken by the smaller (left id, right id) pair, until the vocabulary reaches its target size.
// Tests: npx vitest run libs/tiny-model

export interface BpeTrainingResult {
  /** token -> id, starting with the initial tokens in the order given. */
  vocab: Map<string, number>;
  /** Merges in rank order, as [left, right] pairs. */
  merges: Array<[string, string]>;
}

interface Word {
  symbols: number[];
  count: number;
}

function countWords(pieces: Iterable<string>, vocab: Map<string, number>): Word[] {
  const counts = new Map<string, number>();
  for (const piece of pieces) counts.set(piece, (counts.get(piece) ?? 0) + 1);
  const words: Word[] = [];
  // sorted for determinism independent of Map insertion order
  for (const piece of [...counts.keys()].sort()) {
    const symbols = [...piece].map((ch) => {
      const id = vocab.get(ch);
      if (id === undefined) throw new Error(`bpe: character '${ch}' is not in the initial alphabet`);
      return id;
    });
    words.push({ symbols, count: counts.get(piece)! });
  }
  return words;
}

/** Pair key: both ids fit in 21 bits for any vocabulary this trainer is meant for. */
const pairKey = (left: number, right: number): number => left * 2 ** 21 + right;

function bestPair(words: Word[]): [number, number] | undefined {
  const counts = new Map<number, number>();
  for (const word of words) {
    for (let i = 0; i + 1 < word.symbols.length; i++) {
      const key = pairKey(word.symbols[i], word.symbols[i + 1]);
      counts.set(key, (counts.get(key) ?? 0) + word.count);
    }
  }
  let bestKey = -1;
  let bestCount = 0;
  for (const [key, count] of counts) {
    // highest count wins; on a tie the smaller pair (smaller key) wins
    if (count > bestCount || (count === bestCount && key < bestKey)) {
      bestKey = key;
      bestCount = count;
    }
  }
  return bestKey < 0 ? undefined : [Math.floor(bestKey / 2 ** 21), bestKey % 2 ** 21];
}

function applyMerge(words: Word[], left: number, right: number, merged: number): void {
  for (const word of words) {
    const s = word.symbols;
    if (s.length < 2) continue;
    const out: number[] = [];
    for (let i = 0; i < s.length; i++) {
      if (i + 1 < s.length && s[i] === left && s[i + 1] === right) {
        out.push(merged);
        i++;
      } else {
        out.push(s[i]);
      }
    }
    word.symbols = out;
  }
}

/**
 * Trains merges over `pieces` (pre-tokenized, already in the byte-level alphabet).
 * `initialTokens` get ids 0.. in order (added tokens, then the alphabet); training stops at
 * `vocabSize` tokens or when no pair is left.
 */
export function trainBpe(pieces: Iterable<string>, initialTokens: readonly string[], vocabSize: number): BpeTrainingResult {
  const vocab = new Map<string, number>();
  const idToToken: string[] = [];
  for (const token of initialTokens) {
    if (vocab.has(token)) throw new Error(`bpe: duplicate initial token '${token}'`);
    vocab.set(token, idToToken.length);
    idToToken.push(token);
  }
  const words = countWords(pieces, vocab);
  const merges: Array<[string, string]> = [];
  while (vocab.size < vocabSize) {
    const pair = bestPair(words);
    if (pair === undefined) break;
    const [left, right] = pair;
    const token = idToToken[left] + idToToken[right];
    // a string reachable by two merge paths keeps its first id (as the HF trainer does)
    let merged = vocab.get(token);
    if (merged === undefined) {
      merged = idToToken.length;
      vocab.set(token, merged);
      idToToken.push(token);
    }
    merges.push([idToToken[left], idToToken[right]]);
    applyMerge(words, left, right, merged);
  }
  return { vocab, merges };
}
