// StructuredOutputService: the coordinator's side of structured outputs. At start it takes the
// vocabulary's byte strings from the tokenizer the coordinator already loaded (sized to the
// model's embedding rows so the masks match the engine's logits) and starts the mask thread,
// which builds the sorted index off the event loop and warms json_object's first masks; per
// request it compiles (or reuses) the grammar and hands each sequence a TokenConstraint whose
// cache misses go to that thread (the scheduler lets the sequence sit out until its mask is in;
// requests before the thread is ready wait the same way). Chat replies of a Seed tokenizer think
// freely before the constrained answer.
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import * as path from 'node:path';
import { THINK_END, THINK_START } from '../../../../libs/chat-parsers/src/seed-tags';
import { findRepoRoot } from '../../../../libs/native/src/addon';
import { GrammarCompiler, type GrammarRequest } from '../../../../libs/structured-output/src/grammar-compiler';
import { GrammarMatcher } from '../../../../libs/structured-output/src/grammar-matcher';
import { MaskThread } from '../../../../libs/structured-output/src/mask-thread-client';
import { TokenConstraint, type ThinkTokens } from '../../../../libs/structured-output/src/token-constraint';
import { VocabIndex } from '../../../../libs/structured-output/src/vocab-index';
import type { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';
import { ModelRuntime } from '../engine/model-runtime';

/** json_object texts (compact JSON, as the grammar writes it) whose states' masks are computed at start. */
const JSON_OBJECT_WARM_TEXTS = ['', '{', '{"', '{"a', '{"a"', '{"a":', '{"a":"', '{"a":"b', '{"a":"b"', '{"a":"b",', '{"a":"b","', '{"a":1', '{"a":1,', '{"a":{', '{"a":[', '{"a":t', '{"a":-', '{"a":"b"}'];

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

/** The index of the tokenizer's vocabulary, byte strings only (the sorted parts are the thread's). */
export function vocabIndexOf(tokenizer: Tokenizer, vocabSize: number): VocabIndex {
  const added = [...tokenizer.addedTokens].map(([content, t]) => ({ content, id: t.id, special: t.special }));
  return VocabIndex.fromVocabulary({ tokens: tokenizer.modelVocabulary(), added, isByteLevel: tokenizer.isByteLevel }, vocabSize);
}

@Injectable()
export class StructuredOutputService implements OnModuleDestroy {
  private readonly logger = new Logger('StructuredOutput');
  readonly compiler: GrammarCompiler;
  private readonly think: ThinkTokens | null;
  readonly masks: MaskThread;

  constructor(@Inject(ModelRuntime) runtime: ModelRuntime) {
    const started = performance.now();
    const vocab = vocabIndexOf(runtime.tokenizer, runtime.info.vocabSize);
    this.compiler = new GrammarCompiler(vocab, runtime.eosTokenIds);
    const thinkStart = runtime.tokenizer.addedTokenId(THINK_START), thinkEnd = runtime.tokenizer.addedTokenId(THINK_END);
    this.think = thinkStart !== undefined && thinkEnd !== undefined ? { thinkStart, thinkEnd } : null;
    const script = path.join(findRepoRoot(), 'dist', 'libs', 'structured-output', 'src', 'mask-thread.js');
    this.masks = new MaskThread(vocab, runtime.eosTokenIds, script, (message) => this.logger.error(message));
    this.masks.warm(this.compiler.compile({ kind: 'json_object' }), JSON_OBJECT_WARM_TEXTS);
    const bytesMs = Math.round(performance.now() - started);
    void this.masks.ready.then((indexMs) => this.logger.log(`vocabulary of ${vocab.vocabSize} ids: byte strings in ${bytesMs} ms on the event loop, indexed for structured outputs in ${Math.round(indexMs)} ms on the mask thread`));
  }

  onModuleDestroy(): Promise<void> {
    return this.masks.close();
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
      return new TokenConstraint(matcher, think, options.startsInReasoning, this.masks);
    };
  }
}
