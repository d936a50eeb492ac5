// StructuredOutputService: the coordinator's side of structured outputs. At start it indexes the
// tokenizer's vocabulary once (libs/structured-output's VocabIndex, sized to the model's
// embedding rows so the masks match the engine's logits); per request it compiles (or reuses) the
// grammar and hands each sequence a TokenConstraint that the engine loop asks for masks. Chat
// replies of a Seed tokenizer think freely before the constrained answer.
import { Inject, Injectable, Logger } from '@nestjs/common';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { THINK_END, THINK_START } from '../../../../libs/chat-parsers/src/seed-tags';
import { GrammarCompiler, type GrammarRequest } from '../../../../libs/structured-output/src/grammar-compiler';
import { GrammarMatcher } from '../../../../libs/structured-output/src/grammar-matcher';
import { TokenConstraint, type ThinkTokens } from '../../../../libs/structured-output/src/token-constraint';
import { VocabIndex } from '../../../../libs/structured-output/src/vocab-index';
import { ModelRuntime } from '../engine/model-runtime';

export interface ConstraintOptions {
  /** A chat reply: it may think (Seed think tokens) before the constrained answer. */
  allowThinking: boolean;
  /** The prompt left a think block open. */
  startsInReasoning: boolean;
  /** Generation the prompt already holds (a forced tool-call opening): the grammar starts past it. */
  prefixTokens?: readonly number[];
  /** The text of one token (for prefix tokens the grammar knows only as text). */
  decodeToken?: (id: number) => string;
}

@Injectable()
export class StructuredOutputService {
  private readonly logger = new Logger('StructuredOutput');
  private readonly compiler: GrammarCompiler;
  private readonly think: ThinkTokens | null;

  constructor(@Inject(ModelRuntime) runtime: ModelRuntime) {
    const started = performance.now();
    const json = JSON.parse(fs.readFileSync(path.join(runtime.config.modelDir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    const vocab = VocabIndex.fromTokenizerJson(json, runtime.info.vocabSize);
    this.compiler = new GrammarCompiler(vocab, runtime.eosTokenIds);
    const thinkStart = runtime.tokenizer.addedTokenId(THINK_START), thinkEnd = runtime.tokenizer.addedTokenId(THINK_END);
    this.think = thinkStart !== undefined && thinkEnd !== undefined ? { thinkStart, thinkEnd } : null;
    this.logger.log(`vocabulary of ${vocab.vocabSize} ids indexed for structured outputs in ${Math.round(performance.now() - started)} ms`);
  }

  /** A factory of one constraint per sequence (undefined: the request is free text). */
  constraintFactory(grammar: GrammarRequest | null, options: ConstraintOptions): (() => TokenConstraint) | undefined {
    if (grammar === null) return undefined;
    const compiled = this.compiler.compile(grammar);
    const prefix = options.prefixTokens ?? [];
    // past a forced opening the reply is inside its answer: no thinking phase is left
    const think = options.allowThinking && prefix.length === 0 ? this.think : null;
    return () => {
      const matcher = new GrammarMatcher(compiled);
      for (const id of prefix) {
        if (!matcher.acceptToken(id) && !matcher.acceptText(options.decodeToken?.(id) ?? '\u0000')) throw new Error(`the grammar refuses token ${id} of the prompt's forced opening`);
      }
      return new TokenConstraint(matcher, think, options.startsInReasoning);
    };
  }
}
