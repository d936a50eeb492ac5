// TextPipeline: the token → text half of generation, shared by chat and completions: the
// incremental detokenizer (no broken UTF-8, special tokens skipped as vLLM does by default) and
// the stop strings (OpenAI: the stop text itself is not returned unless include_stop_str_in_output, finish_reason
// "stop").
// Tests: generation-pipeline.spec.ts.
import { IncrementalDetokenizer } from '../../../../libs/tokenizer/src/incremental-detokenizer';
import { StopStringMatcher } from '../../../../libs/tokenizer/src/stop-string-matcher';
import type { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';

export interface TextPipelineOptions {
  promptTokens: readonly number[];
  stop: readonly string[];
  /** vLLM's include_stop_str_in_output: keep the matched stop string in the text. */
  includeStopStrInOutput?: boolean;
}

export class TextPipeline {
  private readonly detokenizer: IncrementalDetokenizer;
  private readonly stops: StopStringMatcher;
  private output = '';
  private isFlushed = false;

  constructor(tokenizer: Tokenizer, options: TextPipelineOptions) {
    this.detokenizer = new IncrementalDetokenizer(tokenizer, { skipSpecialTokens: true, promptIds: options.promptTokens });
    this.stops = new StopStringMatcher(options.stop, options.includeStopStrInOutput ?? false);
  }

  /** A stop string matched: nothing more will be emitted. */
  get isStopped(): boolean {
    return this.stops.isStopped;
  }

  /** All text emitted so far (stop string excluded unless includeStopStrInOutput). */
  get text(): string {
    return this.output;
  }

  /** Adds one token; returns the text that is safe to emit now. */
  push(token: number): string {
    if (this.stops.isStopped || this.isFlushed) return '';
    const piece = this.detokenizer.push(token);
    return piece ? this.emit(this.stops.push(piece).text) : '';
  }

  /** End of generation: releases held-back text (an incomplete character, a partial stop). */
  flush(): string {
    if (this.isFlushed || this.stops.isStopped) return '';
    this.isFlushed = true;
    const tail = this.detokenizer.flush();
    const released = tail ? this.stops.push(tail).text : '';
    return this.emit(released + (this.stops.isStopped ? '' : this.stops.flush()));
  }

  private emit(text: string): string {
    this.output += text;
    return text;
  }
}
