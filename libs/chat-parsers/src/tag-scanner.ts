// Tag search over streamed text: the earliest complete tag in a buffer, and how much of the
// buffer's end must be held back because it could be the beginning of a tag still arriving.
// Used by the reasoning and tool-call stream parsers so that no partial tag is ever emitted.

export interface TagMatch {
  tag: string;
  index: number;
}

/** The leftmost occurrence of any of `tags` in `text` at or after `from` (ties: the longer tag). */
export function findFirstTag(text: string, tags: readonly string[], from = 0): TagMatch | null {
  let best: TagMatch | null = null;
  for (const tag of tags) {
    const index = text.indexOf(tag, from);
    if (index < 0) continue;
    if (best === null || index < best.index || (index === best.index && tag.length > best.tag.length)) {
      best = { tag, index };
    }
  }
  return best;
}

/**
 * Length of the longest suffix of `text` that is a proper prefix of one of `tags`: those characters
 * may turn into a tag with the next delta, so a stream parser must not emit them yet.
 */
export function partialTagLength(text: string, tags: readonly string[]): number {
  let longest = 0;
  for (const tag of tags) {
    const max = Math.min(tag.length - 1, text.length);
    for (let k = max; k > longest; k--) {
      if (text.endsWith(tag.slice(0, k))) {
        longest = k;
        break;
      }
    }
  }
  return longest;
}
