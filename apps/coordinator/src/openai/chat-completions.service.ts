// ChatCompletionsService: POST /v1/chat/completions end to end — validate, render and tokenize
// the prompt, run n choices on the engine (GenerationSession of ChatChoice), and answer with one
// chat.completion or an SSE stream of chat.completion.chunk (role chunk, content / reasoning /
// tool-call deltas, a finish chunk per choice, the usage chunk when asked, then [DONE]).
import { Inject, Injectable } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionChunkChoice, FinishReason, Usage } from '../../../../libs/openai-protocol/src/chat-completion.types';
import { validateChatCompletionRequest, type ChatCompletionParams } from '../../../../libs/openai-protocol/src/chat-completion-request.validator';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import { usageOf } from '../../../../libs/openai-protocol/src/usage';
import { EngineLoopService } from '../engine/engine-loop.service';
import { ModelRuntime } from '../engine/model-runtime';
import { ChatChoice, type ChatChunkPart } from '../generation/chat-choice';
import { GenerationSession } from '../generation/generation-session';
import { createThinkingBudget } from '../generation/thinking-budget.factory';
import { TokenText } from '../generation/token-text';
import { MetricsService } from '../metrics/metrics.service';
import { StructuredOutputService } from '../structured-output/structured-output.service';
import { buildChatPrompt, type ChatPrompt } from './chat-prompt';
import type { RequestUsage } from '../rate-limit/request-accounting';
import { completionId, nowSeconds, onClientGone, type GenerationContext } from './openai-http';
import { PromptPool } from './prompt-pool';
import { checkContextLength, sequenceRequests, tokensToReserve } from './sequence-requests';
import { SseWriter } from './sse-writer';

/** What buildChatPrompt reads, as plain data a thread can receive. */
function templateInput(p: ChatCompletionParams): Partial<ChatCompletionParams> {
  return { messages: p.messages, tools: p.tools, toolChoice: p.toolChoice, thinkingBudget: p.thinkingBudget, chatTemplateKwargs: p.chatTemplateKwargs };
}

interface ChatRun {
  id: string;
  created: number;
  params: ChatCompletionParams;
  prompt: ChatPrompt;
  session: GenerationSession<ChatChunkPart>;
}

@Injectable()
export class ChatCompletionsService {
  private readonly tokenText: TokenText;

  constructor(
    @Inject(ModelRuntime) private readonly runtime: ModelRuntime,
    @Inject(EngineLoopService) private readonly engine: EngineLoopService,
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(StructuredOutputService) private readonly structuredOutput: StructuredOutputService,
    @Inject(PromptPool) private readonly prompts: PromptPool,
  ) {
    this.tokenText = new TokenText(runtime.tokenizer);
  }

  /** Validates and starts generation; throws OpenAiError (4xx / 429 / 503) before any output. */
  async start(body: unknown, context: GenerationContext): Promise<ChatRun> {
    const { tokenizer, renderer, config } = this.runtime;
    const params = validateChatCompletionRequest(body, { vocabSize: this.runtime.vocabLimit });
    if (params.model !== config.servedModelName) throw OpenAiError.modelNotFound(params.model);
    // large conversations render and tokenize on a pool thread (the loop keeps streaming)
    const prompt = this.prompts.shouldOffload(JSON.stringify(params.messages).length) ? await this.prompts.chat(templateInput(params)) : buildChatPrompt(renderer, tokenizer, params);
    checkContextLength(prompt.tokens.length, params, this.runtime.maxModelLen, 'messages');
    await context.reserveTokens(tokensToReserve(prompt.tokens.length, params, this.runtime.maxModelLen));
    const choices = Array.from({ length: params.n }, () => new ChatChoice(tokenizer, this.tokenText, {
      promptTokens: prompt.tokens,
      stop: params.stop,
      includeStopStrInOutput: params.includeStopStrInOutput,
      isStream: params.stream,
      numTopLogprobs: params.numTopLogprobs,
      tools: params.tools,
      parseToolCalls: prompt.parseToolCalls,
      parallelToolCalls: params.parallelToolCalls,
      startsInReasoning: prompt.startsInReasoning,
      textPrefix: prompt.textPrefix,
    }));
    const session = new GenerationSession(this.engine, choices, {
      arrivedAtMs: context.arrivedAtMs,
      onFirstToken: (s) => this.metrics.recordFirstToken(s),
      onInterToken: (s) => this.metrics.recordInterToken(s),
      onChoiceEnd: (reason) => this.metrics.recordFinished(reason),
    });
    session.start(sequenceRequests(params, prompt.tokens, {
      timeoutMs: config.requestTimeoutMs,
      forcer: () => createThinkingBudget(tokenizer, params.thinkingBudget, prompt.text),
      constraint: this.structuredOutput.constraintFactory(params.grammar, {
        allowThinking: true,
        startsInReasoning: prompt.startsInReasoning,
        prefixTokens: prompt.textPrefix ? tokenizer.encode(prompt.textPrefix) : undefined,
        decodeToken: (id) => tokenizer.decode([id]),
      }),
    }));
    this.metrics.recordPromptTokens(prompt.tokens.length * params.n);
    return { id: completionId('chatcmpl'), created: nowSeconds(), params, prompt, session };
  }

  /** Waits for every choice; throws the session's error (timeout 504, worker failure 503). */
  async complete(run: ChatRun, res: ServerResponse): Promise<ChatCompletion> {
    onClientGone(res, () => run.session.abort());
    const reasons: Array<'stop' | 'length'> = [];
    for await (const event of run.session.events) {
      if (event.kind === 'error') throw event.error;
      if (event.kind === 'finish') reasons[event.index] = event.reason;
    }
    this.metrics.recordGenerationTokens(run.session.numCompletionTokens);
    const choices = run.session.choices.map((choice, index) => {
      const { message, logprobs } = (choice as ChatChoice).message();
      return { index, message, logprobs: logprobs ? { content: logprobs } : null, finish_reason: this.finishReason(run, choice as ChatChoice, reasons[index] ?? 'stop') };
    });
    return { id: run.id, object: 'chat.completion', created: run.created, model: run.params.model, choices, usage: this.usage(run) };
  }

  /** Streams the run as SSE; returns the HTTP status to record (200, or the error's). */
  async stream(run: ChatRun, res: ServerResponse): Promise<number> {
    const sse = new SseWriter(res);
    onClientGone(res, () => run.session.abort());
    const { params } = run;
    // continuous_usage_stats: each chunk carries the usage of its choice so far (as vLLM does)
    const chunk = (choices: ChatCompletionChunkChoice[], numTokens = 0): ChatCompletionChunk => ({
      id: run.id, object: 'chat.completion.chunk', created: run.created, model: params.model, choices,
      ...(params.includeUsage ? { usage: params.continuousUsageStats ? usageOf(run.prompt.tokens.length, numTokens) : null } : {}),
    });
    sse.start();
    for (let index = 0; index < params.n; index++) {
      await sse.send(chunk([{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]));
    }
    let status = 200;
    for await (const event of run.session.events) {
      if (event.kind === 'error') {
        await sse.send(event.error.toBody());
        status = event.error.status;
        break;
      }
      if (event.kind === 'parts') {
        for (const part of event.parts) {
          await sse.send(chunk([{ index: event.index, delta: part.delta, logprobs: part.logprobs ? { content: part.logprobs } : null, finish_reason: null }], event.numTokens));
        }
      } else {
        const choice = run.session.choices[event.index] as ChatChoice;
        const pending = choice.takePendingLogprobs();
        await sse.send(chunk([{ index: event.index, delta: {}, logprobs: pending && pending.length > 0 ? { content: pending } : null, finish_reason: this.finishReason(run, choice, event.reason) }], event.numTokens));
      }
    }
    this.metrics.recordGenerationTokens(run.session.numCompletionTokens);
    if (status === 200 && params.includeUsage) await sse.send({ ...chunk([]), usage: this.usage(run) });
    sse.done();
    return status;
  }

  private finishReason(run: ChatRun, choice: ChatChoice, reason: 'stop' | 'length'): FinishReason {
    if (reason === 'length') return 'length';
    // OpenAI: a named tool_choice finishes with "stop"; calls chosen by the model with "tool_calls"
    return choice.hasToolCalls && typeof run.params.toolChoice !== 'object' ? 'tool_calls' : 'stop';
  }

  private usage(run: ChatRun): Usage {
    return usageOf(run.prompt.tokens.length, run.session.numCompletionTokens);
  }

  usageOf(run: ChatRun): RequestUsage {
    const reasoningTokens = run.session.choices.reduce((sum, c) => sum + (c as ChatChoice).numReasoningTokens, 0);
    return { model: run.params.model, promptTokens: run.prompt.tokens.length, completionTokens: run.session.numCompletionTokens, reasoningTokens, cachedPromptTokens: run.session.numCachedPromptTokens };
  }
}
