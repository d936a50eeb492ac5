// CompletionsService: POST /v1/completions — a raw prompt (text or token ids), n choices, text
// deltas over SSE or one text_completion, logprobs in the completions shape, usage.
import { Inject, Injectable } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { Usage } from '../../../../libs/openai-protocol/src/chat-completion.types';
import type { Completion, CompletionChoice as WireChoice } from '../../../../libs/openai-protocol/src/completion.types';
import { validateCompletionRequest, type CompletionParams } from '../../../../libs/openai-protocol/src/completion-request.validator';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import { usageOf } from '../../../../libs/openai-protocol/src/usage';
import { EngineLoopService } from '../engine/engine-loop.service';
import { ModelRuntime } from '../engine/model-runtime';
import { CompletionChoice, type CompletionChunkPart } from '../generation/completion-choice';
import { GenerationSession } from '../generation/generation-session';
import { TokenText } from '../generation/token-text';
import { MetricsService } from '../metrics/metrics.service';
import type { RequestUsage } from '../rate-limit/request-accounting';
import { completionId, nowSeconds, onClientGone, type GenerationContext } from './openai-http';
import { checkContextLength, sequenceRequests, tokensToReserve } from './sequence-requests';
import { SseWriter } from './sse-writer';

interface CompletionRun {
  id: string;
  created: number;
  params: CompletionParams;
  promptTokens: number[];
  session: GenerationSession<CompletionChunkPart>;
}

@Injectable()
export class CompletionsService {
  private readonly tokenText: TokenText;

  constructor(
    @Inject(ModelRuntime) private readonly runtime: ModelRuntime,
    @Inject(EngineLoopService) private readonly engine: EngineLoopService,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {
    this.tokenText = new TokenText(runtime.tokenizer);
  }

  async start(body: unknown, context: GenerationContext): Promise<CompletionRun> {
    const { tokenizer, config } = this.runtime;
    const params = validateCompletionRequest(body, { vocabSize: this.runtime.vocabLimit });
    if (params.model !== config.servedModelName) throw OpenAiError.modelNotFound(params.model);
    const promptTokens = typeof params.prompt === 'string' ? tokenizer.encode(params.prompt) : params.prompt;
    checkContextLength(promptTokens.length, params, this.runtime.maxModelLen, 'prompt');
    await context.reserveTokens(tokensToReserve(promptTokens.length, params, this.runtime.maxModelLen));
    const choices = Array.from({ length: params.n }, () =>
      new CompletionChoice(tokenizer, this.tokenText, { promptTokens, stop: params.stop, includeStopStrInOutput: params.includeStopStrInOutput, numTopLogprobs: params.numTopLogprobs }),
    );
    const session = new GenerationSession(this.engine, choices, {
      arrivedAtMs: context.arrivedAtMs,
      onFirstToken: (s) => this.metrics.recordFirstToken(s),
      onInterToken: (s) => this.metrics.recordInterToken(s),
      onChoiceEnd: (reason) => this.metrics.recordFinished(reason),
    });
    session.start(sequenceRequests(params, promptTokens, { timeoutMs: config.requestTimeoutMs }));
    this.metrics.recordPromptTokens(promptTokens.length * params.n);
    return { id: completionId('cmpl'), created: nowSeconds(), params, promptTokens, session };
  }

  async complete(run: CompletionRun, res: ServerResponse): Promise<Completion> {
    onClientGone(res, () => run.session.abort());
    const reasons: Array<'stop' | 'length'> = [];
    for await (const event of run.session.events) {
      if (event.kind === 'error') throw event.error;
      if (event.kind === 'finish') reasons[event.index] = event.reason;
    }
    this.metrics.recordGenerationTokens(run.session.numCompletionTokens);
    const choices: WireChoice[] = run.session.choices.map((c, index) => {
      const choice = c as CompletionChoice;
      return { index, text: choice.output, logprobs: choice.logprobs(), finish_reason: reasons[index] ?? 'stop' };
    });
    return { id: run.id, object: 'text_completion', created: run.created, model: run.params.model, choices, usage: this.usage(run) };
  }

  async stream(run: CompletionRun, res: ServerResponse): Promise<number> {
    const sse = new SseWriter(res);
    onClientGone(res, () => run.session.abort());
    const { params } = run;
    // continuous_usage_stats: each chunk carries the usage of its choice so far (as vLLM does)
    const chunk = (choices: WireChoice[], numTokens = 0): Completion => ({
      id: run.id, object: 'text_completion', created: run.created, model: params.model, choices,
      ...(params.includeUsage ? { usage: params.continuousUsageStats ? usageOf(run.promptTokens.length, numTokens) : null } : {}),
    });
    sse.start();
    let status = 200;
    for await (const event of run.session.events) {
      if (event.kind === 'error') {
        await sse.send(event.error.toBody());
        status = event.error.status;
        break;
      }
      if (event.kind === 'parts') {
        for (const part of event.parts) await sse.send(chunk([{ index: event.index, text: part.text, logprobs: part.logprobs, finish_reason: null }], event.numTokens));
      } else {
        const pending = (run.session.choices[event.index] as CompletionChoice).takePendingLogprobs();
        await sse.send(chunk([{ index: event.index, text: '', logprobs: pending, finish_reason: event.reason }], event.numTokens));
      }
    }
    this.metrics.recordGenerationTokens(run.session.numCompletionTokens);
    if (status === 200 && params.includeUsage) await sse.send({ ...chunk([]), usage: this.usage(run) });
    sse.done();
    return status;
  }

  private usage(run: CompletionRun): Usage {
    return usageOf(run.promptTokens.length, run.session.numCompletionTokens);
  }

  usageOf(run: CompletionRun): RequestUsage {
    return { model: run.params.model, promptTokens: run.promptTokens.length, completionTokens: run.session.numCompletionTokens, reasoningTokens: 0, cachedPromptTokens: run.session.numCachedPromptTokens };
  }
}
