// The entry point: a structured-output request (json_object, json_schema, or a forced Seed tool
// call) compiled to a grammar over one tokenizer's vocabulary, cached by the request's canonical
// text so that repeated schemas share their compiled grammar and masks. `checkGrammarRequest`
// compiles without a vocabulary, for request validation (SchemaError -> HTTP 400).
import { CompiledGrammar } from './compiled-grammar';
import { NodeFactory, type GrammarNode } from './grammar-node';
import { SchemaCompiler } from './schema-compiler';
import type { GrammarRequest } from './grammar-request';
import { buildSeedToolCallGrammar, SEED_TOOL_CALL_TAGS } from './seed-tool-call-grammar';
import type { VocabIndex } from './vocab-index';

export type { GrammarRequest } from './grammar-request';

const MAX_CACHED_GRAMMARS = 64;

function buildRoot(request: GrammarRequest, addedTokens: ReadonlyMap<string, number>): GrammarNode {
  const nodes = new NodeFactory();
  switch (request.kind) {
    case 'json_object': {
      const compiler = new SchemaCompiler(nodes, {});
      return compiler.objectNode([], compiler.any());
    }
    case 'json_schema': return new SchemaCompiler(nodes, request.schema).compile();
    case 'tool_call': return buildSeedToolCallGrammar(nodes, request.tools, addedTokens);
  }
}

/** Throws SchemaError when the request's schema uses what the grammar cannot enforce. */
export function checkGrammarRequest(request: GrammarRequest): void {
  buildRoot(request, new Map());
}

export class GrammarCompiler {
  private readonly cache = new Map<string, CompiledGrammar>();

  constructor(readonly vocab: VocabIndex, readonly eosTokenIds: readonly number[]) {}

  compile(request: GrammarRequest): CompiledGrammar {
    const key = JSON.stringify(request);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const root = buildRoot(request, this.vocab.addedTokens);
    const tags = request.kind === 'tool_call' ? SEED_TOOL_CALL_TAGS : [];
    const symbols = tags.flatMap((t) => this.vocab.addedTokens.get(t) ?? []);
    const grammar = new CompiledGrammar(root, this.vocab, symbols, this.eosTokenIds, request);
    this.cache.set(key, grammar);
    if (this.cache.size > MAX_CACHED_GRAMMARS) this.cache.delete(this.cache.keys().next().value!);
    return grammar;
  }
}
