// TurnBatchedText: generated token ids turned into text and written once per event-loop turn.
// `tpserve generate` takes several decode replies in one turn (held replies, see
// single-sequence-driver.ts); detokenizing and writing each token alone cost the JS thread ~50 µs
// a token (two tokenizer decodes and a write syscall), CPU that a 2-core host takes from the
// engine's threads. The text is the same: IncrementalDetokenizer.pushMany over the turn's ids.
import { IncrementalDetokenizer } from '../../../../libs/tokenizer/src/incremental-detokenizer';

export class TurnBatchedText {
  private pending: number[] = [];
  private scheduled = false;

  constructor(
    private readonly detokenizer: IncrementalDetokenizer,
    private readonly write: (text: string) => void,
  ) {}

  /** Queues a token; its text is written at the end of this event-loop turn. */
  push(id: number): void {
    this.pending.push(id);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.writePending());
  }

  /** Writes what is queued now, then what the detokenizer still holds back (the end of the text). */
  finish(): void {
    this.writePending();
    const rest = this.detokenizer.flush();
    if (rest) this.write(rest);
  }

  private writePending(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = this.detokenizer.pushMany(this.pending);
    this.pending = [];
    if (text) this.write(text);
  }
}
