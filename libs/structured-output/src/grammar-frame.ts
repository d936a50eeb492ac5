// Frames: the states of one grammar node while it is being matched, immutable, each with a key
// that identifies its state (equal keys: equal futures). A frame reads one symbol and answers the
// frames that replace it (bottom to top); `refeed` hands the same symbol on to the new top, which
// is how a node dispatches to a child or ends before a symbol it does not take. automaton.ts runs
// these over a stack. Literal, sequence, choice, members (objects and tool parameters) and arrays
// are here, strings and numbers in their own files. Tests: automaton.spec.ts.
import { SYMBOL_BASE, type ArraySpec, type GrammarNode, type MembersSpec } from './grammar-node';
import { DONE, NONE, type Frame, type Move } from './frame';
import { NumberFrame } from './number-frame';
import { StringFrame } from './string-frame';

export function beginFrame(node: GrammarNode): Frame {
  switch (node.kind) {
    case 'literal': return new LiteralFrame(node, 0);
    case 'string': return StringFrame.begin(node);
    case 'number': return NumberFrame.begin(node);
    case 'members': return new MembersFrame(node, node.spec, node.spec.open === '' ? 1 : 0, 0);
    case 'array': return new ArrayFrame(node, node.spec, 0, 0);
    case 'sequence': return new SequenceFrame(node, node.parts, 0);
    case 'choice': return new ChoiceFrame(node, node.branches);
  }
}

class LiteralFrame implements Frame {
  readonly key: string;
  constructor(private readonly node: GrammarNode & { kind: 'literal' }, private readonly pos: number) {
    this.key = `L${node.id}.${pos}`;
  }

  step(symbol: number): Move[] {
    const { bytes, symbol: whole } = this.node;
    // a tag the tokenizer has as one added token is only accepted as that token
    if (whole !== null) return this.pos === 0 && symbol === SYMBOL_BASE + whole ? DONE : NONE;
    if (symbol !== bytes[this.pos]) return NONE;
    return this.pos + 1 === bytes.length ? DONE : [{ next: [new LiteralFrame(this.node, this.pos + 1)], refeed: false }];
  }

  canEnd(): boolean {
    return this.node.bytes.length === 0 && this.node.symbol === null;
  }
}

class SequenceFrame implements Frame {
  readonly key: string;
  constructor(private readonly node: GrammarNode, private readonly parts: GrammarNode[], private readonly index: number) {
    this.key = `S${node.id}.${index}`;
  }

  step(): Move[] {
    if (this.index >= this.parts.length) return NONE;
    const child = beginFrame(this.parts[this.index]);
    // the last part replaces the sequence (a tail call keeps stacks short)
    const next = this.index + 1 === this.parts.length ? [child] : [new SequenceFrame(this.node, this.parts, this.index + 1), child];
    return [{ next, refeed: true }];
  }

  canEnd(): boolean {
    return this.index >= this.parts.length;
  }
}

class ChoiceFrame implements Frame {
  readonly key: string;
  constructor(node: GrammarNode, private readonly branches: GrammarNode[]) {
    this.key = `C${node.id}`;
  }

  step(): Move[] {
    return this.branches.map((b) => ({ next: [beginFrame(b)], refeed: true }));
  }

  canEnd(): boolean {
    return false;
  }
}

/** JSON object members / tool-call parameters. Phases: 0 before open, 1 after open, 2 after a member, 3 after a separator. */
class MembersFrame implements Frame {
  readonly key: string;
  constructor(
    private readonly node: GrammarNode,
    private readonly spec: MembersSpec,
    private readonly phase: number,
    private readonly index: number,
  ) {
    this.key = `M${node.id}.${phase}.${index}`;
  }

  private closable(): boolean {
    return this.spec.members.slice(this.index).every((m) => !m.required);
  }

  step(symbol: number): Move[] {
    const { open, close, separator } = this.spec;
    if (this.phase === 0) return symbol === open.charCodeAt(0) ? this.to(1, this.index) : NONE;
    if (this.phase !== 3 && close !== '' && symbol === close.charCodeAt(0)) return this.closable() ? DONE : NONE;
    if (this.phase === 2 && separator !== '') {
      // a separator only where another member can follow
      const more = this.index < this.spec.members.length || this.spec.extra !== null;
      return more && symbol === separator.charCodeAt(0) ? this.to(3, this.index) : NONE;
    }
    const moves: Move[] = [];
    const { members } = this.spec;
    let j = this.index;
    for (; j < members.length; j++) {
      moves.push({ next: [new MembersFrame(this.node, this.spec, 2, j + 1), beginFrame(members[j].node)], refeed: true });
      if (members[j].required) break;
    }
    if (j >= members.length && this.spec.extra) {
      moves.push({ next: [new MembersFrame(this.node, this.spec, 2, members.length), beginFrame(this.spec.extra)], refeed: true });
    }
    return moves;
  }

  private to(phase: number, index: number): Move[] {
    return [{ next: [new MembersFrame(this.node, this.spec, phase, index)], refeed: false }];
  }

  canEnd(): boolean {
    return this.spec.close === '' && this.phase !== 3 && this.closable();
  }
}

/** Phases: 0 before '[', 1 after '[', 2 after an item. */
class ArrayFrame implements Frame {
  readonly key: string;
  constructor(
    private readonly node: GrammarNode,
    private readonly spec: ArraySpec,
    private readonly phase: number,
    private readonly count: number,
  ) {
    const cap = Math.max(spec.minItems, Number.isFinite(spec.maxItems) ? spec.maxItems : 0);
    this.key = `A${node.id}.${phase}.${Math.min(count, cap)}`;
  }

  step(symbol: number): Move[] {
    const { minItems, maxItems, item } = this.spec;
    if (this.phase === 0) return symbol === 0x5b ? [{ next: [new ArrayFrame(this.node, this.spec, 1, 0)], refeed: false }] : NONE;
    if (symbol === 0x5d) return this.count >= minItems ? DONE : NONE;
    if (this.phase === 1) {
      return maxItems >= 1 ? [{ next: [new ArrayFrame(this.node, this.spec, 2, 1), beginFrame(item)], refeed: true }] : NONE;
    }
    if (symbol !== 0x2c || this.count >= maxItems) return NONE;
    return [{ next: [new ArrayFrame(this.node, this.spec, 2, this.count + 1), beginFrame(item)], refeed: false }];
  }

  canEnd(): boolean {
    return false;
  }
}
