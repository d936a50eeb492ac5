// The content part of a reply with tool calls: text outside the calls, verbatim, except that a
// stretch of whitespace only (before, between or after calls) is dropped once the reply has a
// call — so "</seed:think>\n<seed:tool_call>…" gives content null, not "\n". Whitespace at the
// start of a stretch is held until a visible character shows the stretch is real text.

import type { DeltaCollector } from './tool-call-deltas';

export class ContentSegments {
  private heldWhitespace = '';
  private stretchHasText = false;
  private hasCalls = false;

  constructor(private readonly out: DeltaCollector) {}

  emit(text: string): void {
    if (!text) return;
    if (!this.stretchHasText) {
      if (!/\S/.test(text)) {
        this.heldWhitespace += text;
        return;
      }
      text = this.heldWhitespace + text;
      this.heldWhitespace = '';
      this.stretchHasText = true;
    }
    this.out.content(text);
  }

  /** A call starts: the stretch before it ends (dropped if it was whitespace only). */
  startCall(): void {
    this.hasCalls = true;
    this.heldWhitespace = '';
    this.stretchHasText = false;
  }

  /** End of the reply: held whitespace is the content only when there was no call at all. */
  finish(): void {
    if (!this.hasCalls) this.out.content(this.heldWhitespace);
    this.heldWhitespace = '';
  }
}
