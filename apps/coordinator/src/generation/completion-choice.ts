// CompletionChoice: one choice of a (legacy) completion: tokens → detokenizer → stop strings,
// with logprobs in the completions shape {tokens, token_logprobs, top_logprobs, text_offset}
// (text_offset: running sum of the token strings' lengths, as vLLM computes it).
// Tests: generation-pipeline.spec.ts.
import type { CompletionLogprobs } from '../../../../libs/openai-protocol/src/completion.types';
import type { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';
import type { TokenEvent } from '../engine/engine-request';
import { TextPipeline } from './text-pipeline';
import type { TokenText } from './token-text';

export interface CompletionChunkPart {
  text: string;
  logprobs: CompletionLogprobs | null;
}

function emptyLogprobs(): CompletionLogprobs {
  return { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
}

function append(to: CompletionLogprobs, from: CompletionLogprobs): void {
  to.tokens.push(...from.tokens);
  to.token_logprobs.push(...from.token_logprobs);
  to.top_logprobs.push(...from.top_logprobs);
  to.text_offset.push(...from.text_offset);
}

export class CompletionChoice {
  private readonly text: TextPipeline;
  private pending = emptyLogprobs();
  private readonly all = emptyLogprobs();
  private offset = 0;
  numTokens = 0;

  constructor(
    tokenizer: Tokenizer,
    private readonly tokenText: TokenText,
    private readonly options: { promptTokens: readonly number[]; stop: readonly string[]; includeStopStrInOutput: boolean; numTopLogprobs: number },
  ) {
    this.text = new TextPipeline(tokenizer, options);
  }

  get isStopped(): boolean {
    return this.text.isStopped;
  }

  get output(): string {
    return this.text.text;
  }

  push(event: TokenEvent): CompletionChunkPart[] {
    if (this.text.isStopped) return [];
    this.numTokens++;
    if (this.options.numTopLogprobs >= 0) this.addLogprob(event);
    return this.part(this.text.push(event.token));
  }

  flush(): CompletionChunkPart[] {
    return this.part(this.text.flush());
  }

  takePendingLogprobs(): CompletionLogprobs | null {
    if (this.options.numTopLogprobs < 0) return null;
    const out = this.pending;
    this.pending = emptyLogprobs();
    return out;
  }

  logprobs(): CompletionLogprobs | null {
    return this.options.numTopLogprobs >= 0 ? this.all : null;
  }

  private part(text: string): CompletionChunkPart[] {
    if (!text) return [];
    return [{ text, logprobs: this.takePendingLogprobs() }];
  }

  private addLogprob(event: TokenEvent): void {
    const entry = this.tokenText.get(event.token);
    const top: Record<string, number> = {};
    for (const [id, lp] of event.topLogprobs.slice(0, this.options.numTopLogprobs)) top[this.tokenText.get(id).text] ??= lp;
    const one: CompletionLogprobs = { tokens: [entry.text], token_logprobs: [event.logprob], top_logprobs: [top], text_offset: [this.offset] };
    this.offset += entry.text.length;
    append(this.pending, one);
    append(this.all, one);
  }
}
