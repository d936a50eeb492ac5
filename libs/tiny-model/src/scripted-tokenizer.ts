// The tokenizer of a scripted checkpoint: the base (tiny or given) tokenizer plus one added token
// (special=false, normalized=false) per text piece of the replies. The model's next token depends
// on the current token alone, so a token may occur once per chain and, across chains, only with
// one successor; pieces are chosen to make that so.
//
// Pieces are chosen from the END of each reply backwards, a few words at a time, and a piece is
// lengthened (or shortened) while its text is taken, i.e. already used later in the same reply or
// used in another reply before a different successor. Choosing right to left makes the pieces of
// a text depend only on what follows it, so two replies that end alike (say the same answer
// after </seed:think>) share the same tokens there, as they must.
// Tests: npx vitest run libs/tiny-model

import type { AddedToken } from './seed-oss-special-tokens';
import type { ReplyPart } from './scripted-script';
import { tokenizerSize, type TokenizerJsonLike } from './tokenizer-files';

/** One generated token of a chain, before ids are given to the new pieces. */
export type ChainElement = { kind: 'token'; id: number; content: string } | { kind: 'piece'; text: string };

export interface ScriptParts {
  name: string;
  /** The reply split at existing added tokens; the last part is `<seed:eos>`. */
  parts: ReplyPart[];
}

const keyOf = (e: ChainElement): string => (e.kind === 'token' ? `#${e.id}` : `"${e.text}`);

function fail(message: string): never {
  throw new Error(`make-tiny-model --script: ${message}`);
}

/** Words with their leading whitespace; trailing whitespace joins the last word (never a piece of its own). */
export function textUnits(text: string, scriptName: string): string[] {
  const units = text.match(/\s*\S+/g) ?? [];
  if (units.length === 0) {
    // a lone "\n" token would also match every newline of every prompt, moving the chat trigger
    fail(`script '${scriptName}': the whitespace-only text ${JSON.stringify(text)} between two special tokens cannot be a token; remove it`);
  }
  units[units.length - 1] += text.slice(units.join('').length);
  return units;
}

/** Lengths to try for a piece ending at `end`: the target first, then longer, then shorter. */
function candidateLengths(end: number, wordsPerPiece: number): number[] {
  const target = Math.min(wordsPerPiece, end);
  const lengths: number[] = [];
  for (let k = target; k <= end; k++) lengths.push(k);
  for (let k = target - 1; k >= 1; k--) lengths.push(k);
  return lengths;
}

/**
 * Cuts `units` into pieces, right to left, so that each piece is free before its successor (the
 * next piece, or `next` for the last); a depth-first search that prefers wordsPerPiece-word pieces
 * and backtracks (bounded) when the start of the text cannot be placed.
 */
function cutText(
  units: readonly string[], next: string | undefined, isFree: (key: string, next: string | undefined) => boolean, wordsPerPiece: number,
): string[] | undefined {
  let budget = 10_000;
  const taken = new Set<string>();
  const search = (end: number, after: string | undefined): string[] | undefined => {
    if (end === 0) return [];
    for (const k of candidateLengths(end, wordsPerPiece)) {
      if (--budget < 0) return undefined;
      const text = units.slice(end - k, end).join('');
      const key = `"${text}`;
      if (taken.has(key) || !isFree(key, after)) continue;
      taken.add(key);
      const rest = search(end - k, key);
      taken.delete(key);
      if (rest !== undefined) return [...rest, text];
    }
    return undefined;
  };
  return search(units.length, next);
}

/** The generated tokens of every script (pieces still as text), consistent across scripts. */
export function planChains(scripts: readonly ScriptParts[], wordsPerPiece: number): ChainElement[][] {
  const successorOf = new Map<string, string>(); // element key -> the key of the element after it
  const ownerOf = new Map<string, string>(); // element key -> the script that first used it
  return scripts.map(({ name, parts }) => {
    const used = new Set<string>();
    const chain: ChainElement[] = [];
    let next: string | undefined; // the key after the element being placed (none after eos)
    const place = (element: ChainElement): void => {
      const key = keyOf(element);
      if (next !== undefined) successorOf.set(key, next);
      if (!ownerOf.has(key)) ownerOf.set(key, name);
      used.add(key);
      chain.unshift(element);
      next = key;
    };
    for (let p = parts.length - 1; p >= 0; p--) {
      const part = parts[p];
      if (part.kind === 'token') {
        const element: ChainElement = { kind: 'token', id: part.id, content: part.content };
        const key = keyOf(element);
        if (used.has(key)) fail(`script '${name}': ${part.content} occurs twice; the next token depends on the current one alone, so a token may occur once per reply`);
        const successor = successorOf.get(key);
        if (successor !== undefined && next !== undefined && successor !== next) {
          fail(`${part.content} is followed by different text in scripts '${ownerOf.get(key)}' and '${name}'; replies that share a special token must agree after it`);
        }
        place(element);
        continue;
      }
      const pieces = cutText(textUnits(part.text, name), next, (key, after) => !used.has(key) && (successorOf.get(key) ?? after) === after, wordsPerPiece);
      if (pieces === undefined) fail(`script '${name}': cannot cut ${JSON.stringify(part.text)} into pieces that are unique; reword it`);
      for (let i = pieces.length - 1; i >= 0; i--) place({ kind: 'piece', text: pieces[i] });
    }
    return chain;
  });
}

/** Ids for the new pieces, from `firstId` up, in order of first appearance (script by script). */
export function assignPieceIds(chains: readonly ChainElement[][], firstId: number): Map<string, number> {
  const ids = new Map<string, number>();
  for (const chain of chains) {
    for (const e of chain) if (e.kind === 'piece' && !ids.has(e.text)) ids.set(e.text, firstId + ids.size);
  }
  return ids;
}

/** The base tokenizer.json with the pieces appended as added tokens (non-special, not normalized). */
export function buildScriptedTokenizerJson<T extends TokenizerJsonLike>(base: T, pieceIds: ReadonlyMap<string, number>): T {
  const json = structuredClone(base);
  const first = tokenizerSize(base);
  const added: AddedToken[] = [...(json.added_tokens ?? [])];
  for (const [content, id] of pieceIds) {
    if (id < first) throw new Error(`scripted tokenizer: piece id ${id} collides with the base tokenizer (size ${first})`);
    added.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false });
  }
  json.added_tokens = added;
  return json;
}
