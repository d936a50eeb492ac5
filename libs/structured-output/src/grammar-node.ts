// The compiled grammar: a graph of nodes (JSON Schema constructs and the Seed tool-call syntax)
// that grammar-frames.ts walks byte by byte. Built by schema-compiler.ts and
// seed-tool-call-grammar.ts; recursion ($ref) is a cycle through a `choice` node.
import type { CodePointDfa } from './code-point-dfa';

/** Symbols the automaton reads: bytes 0..255, and 256 + id for a whole added token (tags). */
export const SYMBOL_BASE = 256;

export interface StringSpec {
  minLength: number;
  /** Infinity when unbounded. */
  maxLength: number;
  /** Pattern / format as a DFA over code points (null: any text). */
  dfa: CodePointDfa | null;
  /** Raw text (a Seed tool-call string parameter): no quotes or escapes, no '<', never "null". */
  raw: boolean;
  /** Key strings of an object's extra properties must not be one of these names. */
  excluded: ReadonlySet<string> | null;
}

export interface NumberSpec {
  integer: boolean;
  /** Inclusive bounds (exclusive ones are converted); +-Infinity when absent. */
  min: number;
  max: number;
  minExclusive: boolean;
  maxExclusive: boolean;
}

export interface MembersSpec {
  /** Opening and closing bytes ('{' / '}' for JSON, '' for tool parameters) and the separator. */
  open: string;
  close: string;
  separator: string;
  /** In the order they are written; a required member cannot be skipped. */
  members: Array<{ node: GrammarNode; required: boolean }>;
  /** Extra members after the declared ones (JSON additionalProperties), or null. */
  extra: GrammarNode | null;
}

export interface ArraySpec {
  item: GrammarNode;
  minItems: number;
  maxItems: number;
}

export type GrammarNode =
  | { id: number; kind: 'literal'; bytes: Uint8Array; text: string; symbol: number | null }
  | { id: number; kind: 'string'; spec: StringSpec }
  | { id: number; kind: 'number'; spec: NumberSpec }
  | { id: number; kind: 'members'; spec: MembersSpec }
  | { id: number; kind: 'array'; spec: ArraySpec }
  | { id: number; kind: 'sequence'; parts: GrammarNode[] }
  | { id: number; kind: 'choice'; branches: GrammarNode[] };

type NodeBody = GrammarNode extends infer N ? (N extends GrammarNode ? Omit<N, 'id'> : never) : never;

/** Hands out node ids (frame keys use them) for one grammar. */
export class NodeFactory {
  private nextId = 0;

  make<B extends NodeBody>(body: B): B & { id: number } {
    return { ...body, id: this.nextId++ };
  }

  /** A literal; `symbol` is the added token that spells it whole (when the tokenizer has one). */
  literal(text: string, symbol: number | null = null): GrammarNode {
    return this.make({ kind: 'literal', bytes: new TextEncoder().encode(text), text, symbol });
  }

  sequence(parts: GrammarNode[]): GrammarNode {
    return parts.length === 1 ? parts[0] : this.make({ kind: 'sequence', parts });
  }

  choice(branches: GrammarNode[]): GrammarNode {
    return branches.length === 1 ? branches[0] : this.make({ kind: 'choice', branches });
  }
}
