// One sequence's structured-output constraint as the engine loop uses it: the bitmask of the next
// sample (undefined: unconstrained) and every token appended, sampled or forced. With a reasoning
// model (Seed's think tokens) the answer is constrained, the thinking is not: a reply may open
// with `<seed:think>` (allowed beside the grammar's first tokens), is free until `</seed:think>`,
// and is held to the grammar from there to eos — as vLLM does with a reasoning parser.
// isReady() tells the scheduler whether the next mask is known (a cache miss is computed by the
// MaskSource meanwhile, and the sequence sits out the step). Tests: token-constraint.spec.ts.
import type { GrammarMatcher } from './grammar-matcher';
import { SYNC_MASK_SOURCE, type MaskSource } from './mask-source';
import type { TokenMask } from './token-mask';

export interface ThinkTokens {
  thinkStart: number;
  thinkEnd: number;
}

type Phase = 'start' | 'thinking' | 'answer' | 'broken';

export class TokenConstraint {
  private phase: Phase;

  constructor(
    private readonly matcher: GrammarMatcher,
    private readonly think: ThinkTokens | null = null,
    startsInReasoning = false,
    private readonly source: MaskSource = SYNC_MASK_SOURCE,
  ) {
    this.phase = think === null ? 'answer' : startsInReasoning ? 'thinking' : 'start';
  }

  /** Whether the grammar refused a token (a forced one): the sequence is then left unconstrained. */
  get isBroken(): boolean {
    return this.phase === 'broken';
  }

  private get isFree(): boolean {
    return this.phase === 'thinking' || this.phase === 'broken';
  }

  /** Whether mask() answers without computing: free text, or the state's mask is cached. A miss starts computing it. */
  isReady(): boolean {
    return this.isFree || this.source.maskIfReady(this.matcher) !== undefined;
  }

  /** The allowed ids of the next sample, or undefined when any id may come. Never a wrong mask: a miss is computed here. */
  mask(): Uint32Array | undefined {
    if (this.isFree) return undefined;
    const mask: TokenMask = this.source.maskIfReady(this.matcher) ?? this.source.maskNow(this.matcher);
    const bits = mask.bits;
    if (this.phase === 'answer' || this.think === null) return bits;
    const withThink = bits.slice();
    withThink[this.think.thinkStart >>> 5] |= 1 << (this.think.thinkStart & 31);
    return withThink;
  }

  onToken(token: number): void {
    switch (this.phase) {
      case 'start':
        if (token === this.think?.thinkStart) {
          this.phase = 'thinking';
          return;
        }
        this.phase = 'answer';
        break;
      case 'thinking':
        if (token === this.think?.thinkEnd) this.phase = 'answer';
        return;
      case 'broken':
        return;
      default:
        break;
    }
    if (!this.matcher.acceptToken(token)) this.phase = 'broken';
  }
}
