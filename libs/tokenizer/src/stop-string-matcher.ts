// StopStringMatcher: OpenAI `stop` strings over streamed text. push(chunk) returns the text that
// is safe to emit now: any tail that could still grow into a stop string is held back and
// released as soon as it cannot. When a stop string appears (possibly split across chunks) the
// text before it is returned, the stop itself is not (unless includeStopInOutput, vLLM's
// include_stop_str_in_output), and the matcher reports which stop matched; later pushes return
// nothing. The stop that completes first wins (as if text arrived one character at a time, so
// the result never depends on how the text was chunked); of two ending together, the longer.
// Tests: stop-string-matcher.spec.ts (property test over every split point).

export interface StopMatchResult {
  /** Text to emit now. */
  text: string;
  /** The stop string that ended the stream, once one has matched. */
  stop?: string;
}

export class StopStringMatcher {
  private readonly stops: string[];
  private held = '';
  private matched?: string;

  constructor(stops: readonly string[], private readonly includeStopInOutput = false) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  get isStopped(): boolean {
    return this.matched !== undefined;
  }

  /** The stop string that matched, if any. */
  get stop(): string | undefined {
    return this.matched;
  }

  /** Number of characters currently held back. */
  get numHeldChars(): number {
    return this.held.length;
  }

  push(chunk: string): StopMatchResult {
    if (this.matched !== undefined) return { text: '', stop: this.matched };
    const buffer = this.held + chunk;
    const hit = this.findFirstCompleted(buffer);
    if (hit) {
      this.matched = hit.stop;
      this.held = '';
      const end = this.includeStopInOutput ? hit.index + hit.stop.length : hit.index;
      return { text: buffer.slice(0, end), stop: hit.stop };
    }
    const keep = this.longestStopPrefixSuffix(buffer);
    this.held = buffer.slice(buffer.length - keep);
    return { text: buffer.slice(0, buffer.length - keep) };
  }

  /** End of stream without a stop: releases the held-back text. */
  flush(): string {
    if (this.matched !== undefined) return '';
    const rest = this.held;
    this.held = '';
    return rest;
  }

  private findFirstCompleted(buffer: string): { index: number; stop: string } | undefined {
    let best: { index: number; stop: string; end: number } | undefined;
    for (const stop of this.stops) {
      const index = buffer.indexOf(stop);
      if (index < 0) continue;
      const end = index + stop.length;
      if (best === undefined || end < best.end || (end === best.end && index < best.index)) best = { index, stop, end };
    }
    return best;
  }

  /** Length of the longest suffix of `buffer` that is a proper prefix of some stop string. */
  private longestStopPrefixSuffix(buffer: string): number {
    let longest = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, buffer.length); n > longest; n--) {
        if (buffer.endsWith(stop.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
