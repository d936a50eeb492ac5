// IncrementalDetokenizer: turns a stream of token ids into text pieces, vLLM/TGI style
// (prefix_offset / read_offset). Each push decodes the few tokens since the last emitted
// boundary twice (with and without the new ones) and emits only the difference, and only once
// the text no longer ends in U+FFFD: a multi-byte character split over several byte-level
// tokens (emoji, CJK) is held back until its last byte arrives, so no chunk carries broken
// UTF-8. The concatenated pieces equal tokenizer.decode(all ids) (with the same
// skipSpecialTokens), flush() included. Tests: incremental-detokenizer.spec.ts.
import { Tokenizer } from './tokenizer';

export interface IncrementalDetokenizerOptions {
  skipSpecialTokens?: boolean;
  /**
   * Prompt ids: the last few serve as left context for the first generated tokens (vLLM keeps
   * 5), which only matters for decoders whose output depends on what precedes a token.
   */
  promptIds?: readonly number[];
}

const NUM_PROMPT_CONTEXT_TOKENS = 5;
const REPLACEMENT_CHAR = '\uFFFD';

export class IncrementalDetokenizer {
  private readonly ids: number[];
  /** Start of the tokens decoded as left context. */
  private prefixOffset = 0;
  /** Tokens before this index have been emitted as text. */
  private readOffset: number;
  private readonly skipSpecialTokens: boolean;
  private emitted = '';

  constructor(private readonly tokenizer: Tokenizer, options: IncrementalDetokenizerOptions = {}) {
    this.skipSpecialTokens = options.skipSpecialTokens ?? false;
    // the last few kept prompt tokens, read from the end (a 100K-token prompt is not walked)
    const prompt = options.promptIds ?? [];
    const context: number[] = [];
    for (let i = prompt.length - 1; i >= 0 && context.length < NUM_PROMPT_CONTEXT_TOKENS; i--) {
      if (!this.isSkipped(prompt[i])) context.push(prompt[i]);
    }
    this.ids = context.reverse();
    this.readOffset = this.ids.length;
  }

  /** All text emitted so far. */
  get text(): string {
    return this.emitted;
  }

  /** Adds one generated token; returns the newly completed text ('' while held back). */
  push(id: number): string {
    if (this.isSkipped(id)) return '';
    this.ids.push(id);
    return this.emitReady(false);
  }

  /**
   * Adds several generated tokens; returns the newly completed text. One decode pair for all of
   * them, where push() per token costs a pair each (a CLI that prints once per event-loop turn).
   */
  pushMany(ids: readonly number[]): string {
    for (const id of ids) if (!this.isSkipped(id)) this.ids.push(id);
    return this.emitReady(false);
  }

  /** End of stream: returns whatever is still held back (e.g. a trailing invalid byte sequence). */
  flush(): string {
    return this.emitReady(true);
  }

  private isSkipped(id: number): boolean {
    return this.skipSpecialTokens && this.tokenizer.isSpecial(id);
  }

  private emitReady(isFinal: boolean): string {
    if (this.readOffset >= this.ids.length) return '';
    const decode = (ids: number[]): string => this.tokenizer.decode(ids);
    const prefixText = decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const newText = decode(this.ids.slice(this.prefixOffset));
    // incomplete character at the end: wait for its remaining bytes
    if (!isFinal && (newText.length <= prefixText.length || newText.endsWith(REPLACEMENT_CHAR))) return '';
    const piece = newText.slice(prefixText.length);
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    this.emitted += piece;
    return piece;
  }
}
