// vLLM's /tokenize and /detokenize: the server's own tokenizer and chat template, so a client
// counts tokens exactly as generation will (count, max_model_len, tokens, token_strs) and turns
// ids back into text (`prompt`). Tests: test/e2e/api-surface.test.ts.
import { Inject, Injectable } from '@nestjs/common';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import { validateDetokenizeRequest, validateTokenizeRequest } from '../../../../libs/openai-protocol/src/tokenize-request.validator';
import { ModelRuntime } from '../engine/model-runtime';
import { renderChat } from './chat-prompt';

export interface TokenizeResponse {
  count: number;
  max_model_len: number;
  tokens: number[];
  token_strs: string[] | null;
}

export interface DetokenizeResponse {
  prompt: string;
}

@Injectable()
export class TokenizeService {
  constructor(@Inject(ModelRuntime) private readonly runtime: ModelRuntime) {}

  tokenize(body: unknown): TokenizeResponse {
    const params = validateTokenizeRequest(body);
    this.checkModel(params.model);
    const text =
      params.kind === 'prompt'
        ? params.prompt
        : renderChat(this.runtime.renderer, {
            messages: params.messages,
            tools: params.tools,
            addGenerationPrompt: params.addGenerationPrompt,
            chatTemplateKwargs: params.chatTemplateKwargs,
          });
    const tokens = this.runtime.tokenizer.encode(text, { addSpecialTokens: params.addSpecialTokens });
    const tokenStrs = params.returnTokenStrs ? this.runtime.tokenizer.idsToTokens(tokens).map((t) => t ?? '') : null;
    return { count: tokens.length, max_model_len: this.runtime.maxModelLen, tokens, token_strs: tokenStrs };
  }

  detokenize(body: unknown): DetokenizeResponse {
    const params = validateDetokenizeRequest(body, { vocabSize: this.runtime.vocabLimit });
    this.checkModel(params.model);
    return { prompt: this.runtime.tokenizer.decode(params.tokens) };
  }

  private checkModel(model: string | undefined): void {
    if (model !== undefined && model !== this.runtime.config.servedModelName) throw OpenAiError.modelNotFound(model);
  }
}
