// ChatChoice: one choice of a chat completion, from tokens to what the API returns. The pipeline
// is tokens → detokenizer → stop strings (TextPipeline) → Seed reasoning split → Seed tool-call
// parser → `choices[].delta`s (stream) or one `choices[].message` (non-stream: the whole text
// through parseSeedOutput, so both paths agree). Logprobs ride on the chunk that carries their
// text. `textPrefix` is generation the prompt already holds (a forced tool-call opening) that
// the parsers must still see. Tests: generation-pipeline.spec.ts.
import { parseSeedOutput, SeedOutputStreamParser } from '../../../../libs/chat-parsers/src/seed-output-parser';
import { THINK_END, THINK_START } from '../../../../libs/chat-parsers/src/seed-tags';
import type { ChatCompletionDelta, ChatCompletionMessage, ChatTokenLogprob } from '../../../../libs/openai-protocol/src/chat-completion.types';
import type { ChatCompletionTool } from '../../../../libs/openai-protocol/src/tool-call.types';
import type { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';
import type { TokenEvent } from '../engine/engine-request';
import { TextPipeline } from './text-pipeline';
import type { TokenText } from './token-text';

export interface ChatChoiceOptions {
  promptTokens: readonly number[];
  stop: readonly string[];
  includeStopStrInOutput: boolean;
  isStream: boolean;
  /** -1: no logprobs. */
  numTopLogprobs: number;
  tools: ChatCompletionTool[] | null;
  parseToolCalls: boolean;
  /** false: only the first tool call is returned (parallel_tool_calls: false). */
  parallelToolCalls: boolean;
  startsInReasoning: boolean;
  textPrefix: string;
}

export interface ChatChunkPart {
  delta: ChatCompletionDelta;
  logprobs: ChatTokenLogprob[] | null;
}

export class ChatChoice {
  private readonly text: TextPipeline;
  private readonly parser: SeedOutputStreamParser | null;
  private pendingLogprobs: ChatTokenLogprob[] = [];
  private readonly allLogprobs: ChatTokenLogprob[] = [];
  private pendingParts: ChatChunkPart[] = [];
  numTokens = 0;
  /** Tokens inside the thinking block, its tags included (usage's reasoning_tokens). */
  numReasoningTokens = 0;
  hasToolCalls = false;
  private isInReasoning: boolean;
  /** The thinking tags' ids in the serving tokenizer (undefined where it has none). */
  private readonly thinkStartId: number | undefined;
  private readonly thinkEndId: number | undefined;

  constructor(
    tokenizer: Tokenizer,
    private readonly tokenText: TokenText,
    private readonly options: ChatChoiceOptions,
  ) {
    this.isInReasoning = options.startsInReasoning;
    this.thinkStartId = tokenizer.addedTokenId(THINK_START);
    this.thinkEndId = tokenizer.addedTokenId(THINK_END);
    this.text = new TextPipeline(tokenizer, { promptTokens: options.promptTokens, stop: options.stop, includeStopStrInOutput: options.includeStopStrInOutput });
    this.parser = options.isStream
      ? new SeedOutputStreamParser({ tools: options.tools, startsInReasoning: options.startsInReasoning, parseToolCalls: options.parseToolCalls })
      : null;
    if (this.parser && options.textPrefix) this.pendingParts = this.toParts(this.parser.push(options.textPrefix));
  }

  get isStopped(): boolean {
    return this.text.isStopped;
  }

  push(event: TokenEvent): ChatChunkPart[] {
    if (this.text.isStopped) return [];
    this.numTokens++;
    this.countReasoning(event.token);
    if (this.options.numTopLogprobs >= 0) this.addLogprob(event);
    const piece = this.text.push(event.token);
    return this.parser && piece ? this.withLogprobs(this.toParts(this.parser.push(piece))) : this.takePendingParts();
  }

  private countReasoning(token: number): void {
    if (token === this.thinkStartId) this.isInReasoning = true;
    if (this.isInReasoning) this.numReasoningTokens++;
    if (token === this.thinkEndId) this.isInReasoning = false;
  }

  /** End of generation: the held-back text and the parsers' last deltas. */
  flush(): ChatChunkPart[] {
    const tail = this.text.flush();
    if (!this.parser) return [];
    const deltas = [...(tail ? this.parser.push(tail) : []), ...this.parser.finish()];
    return this.withLogprobs(this.toParts(deltas));
  }

  /** Logprobs not yet sent with any chunk (they go on the finish chunk). */
  takePendingLogprobs(): ChatTokenLogprob[] | null {
    if (this.options.numTopLogprobs < 0) return null;
    const out = this.pendingLogprobs;
    this.pendingLogprobs = [];
    return out;
  }

  /** The non-streaming message (after flush()). */
  message(): { message: ChatCompletionMessage; logprobs: ChatTokenLogprob[] | null } {
    const parsed = parseSeedOutput(this.options.textPrefix + this.text.text, {
      tools: this.options.tools,
      startsInReasoning: this.options.startsInReasoning,
      parseToolCalls: this.options.parseToolCalls,
    });
    const toolCalls = this.options.parallelToolCalls ? parsed.tool_calls : parsed.tool_calls.slice(0, 1);
    this.hasToolCalls = toolCalls.length > 0;
    const message: ChatCompletionMessage = { role: 'assistant', content: parsed.content, reasoning_content: parsed.reasoning_content };
    if (this.hasToolCalls) message.tool_calls = toolCalls;
    return { message, logprobs: this.options.numTopLogprobs >= 0 ? this.allLogprobs : null };
  }

  private addLogprob(event: TokenEvent): void {
    const entry = this.tokenText.get(event.token);
    const logprob: ChatTokenLogprob = {
      token: entry.text,
      logprob: event.logprob,
      bytes: entry.bytes,
      top_logprobs: event.topLogprobs.slice(0, this.options.numTopLogprobs).map(([id, lp]) => {
        const top = this.tokenText.get(id);
        return { token: top.text, logprob: lp, bytes: top.bytes };
      }),
    };
    this.pendingLogprobs.push(logprob);
    this.allLogprobs.push(logprob);
  }

  private toParts(deltas: ChatCompletionDelta[]): ChatChunkPart[] {
    return deltas.flatMap((delta) => {
      if (delta.tool_calls && !this.options.parallelToolCalls) {
        // parallel_tool_calls false: the deltas of the calls after the first are dropped
        const { tool_calls: calls, ...rest } = delta;
        const first = calls.filter((call) => call.index === 0);
        delta = first.length > 0 ? { ...rest, tool_calls: first } : rest;
        if (Object.keys(delta).length === 0) return [];
      }
      if (delta.tool_calls) this.hasToolCalls = true;
      return [{ delta, logprobs: null }];
    });
  }

  private takePendingParts(): ChatChunkPart[] {
    const parts = this.pendingParts;
    this.pendingParts = [];
    return parts.length > 0 ? this.withLogprobs(parts) : [];
  }

  private withLogprobs(parts: ChatChunkPart[]): ChatChunkPart[] {
    const all = [...this.pendingParts.splice(0), ...parts];
    if (all.length > 0 && this.options.numTopLogprobs >= 0 && this.pendingLogprobs.length > 0) {
      all[0] = { ...all[0], logprobs: this.pendingLogprobs };
      this.pendingLogprobs = [];
    }
    return all;
  }
}
