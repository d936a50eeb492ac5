// Seed-OSS reasoning parser: splits `<seed:think>…</seed:think>` off a reply, in one piece
// (extractReasoning) or from detokenizer deltas that may cut a tag anywhere (SeedReasoningStreamParser).
// The `<seed:cot_budget_reflect>` markers inside the thinking stay in the reasoning text, as in vLLM.
// Tested by seed-reasoning-parser.spec.ts against fixtures/seed-oss/reasoning_parser_cases.json.
//
// Rules:
// - between `<seed:think>` and the first `</seed:think>`: reasoning (the tags themselves are dropped);
// - `startsInReasoning` (the prompt opened the block, e.g. thinking_budget=0 pre-fills
//   `<seed:think><seed:cot_budget_reflect>`): everything up to `</seed:think>` is reasoning;
// - otherwise text before any think tag is content, and a reply without think tags is all content;
// - after the first `</seed:think>` everything is content, verbatim;
// - extractReasoning also reads a `</seed:think>` with no opening tag before it as the end of a
//   block the prompt opened (its prefix is reasoning). A stream cannot take back content it has
//   already sent, so the stream parser, when not told `startsInReasoning`, sends that prefix as
//   content and drops the stray tag; the server should set the flag from the prompt
//   (promptOpensReasoning), and then both paths agree exactly.

import { THINK_END, THINK_START } from './seed-tags';
import { findFirstTag, partialTagLength } from './tag-scanner';

export interface ReasoningParserOptions {
  /** The prompt ended inside an open `<seed:think>` block, so generation starts in reasoning. */
  startsInReasoning?: boolean;
}

/** Non-streaming result; empty parts are null, as in the API response. */
export interface ReasoningExtraction {
  reasoningContent: string | null;
  content: string | null;
}

/** What one streamed delta adds; a field is absent when that part got no new text. */
export interface ReasoningDelta {
  reasoningDelta?: string;
  contentDelta?: string;
}

const THINK_TAGS = [THINK_START, THINK_END] as const;

/** True when the rendered prompt leaves a `<seed:think>` block open (the model continues inside it). */
export function promptOpensReasoning(prompt: string): boolean {
  return prompt.lastIndexOf(THINK_START) > prompt.lastIndexOf(THINK_END);
}

type Phase = 'beforeThink' | 'reasoning' | 'content';

/** Streaming splitter: push() each text delta, then finish() once; see the file header for the rules. */
export class SeedReasoningStreamParser {
  private phase: Phase;
  /** Text received but not yet emitted (at most a partial tag, outside the content phase). */
  private pending = '';

  constructor(options: ReasoningParserOptions = {}) {
    this.phase = options.startsInReasoning ? 'reasoning' : 'beforeThink';
  }

  /** Whether `</seed:think>` has been seen (later text is all content). */
  get isReasoningEnd(): boolean {
    return this.phase === 'content';
  }

  push(text: string): ReasoningDelta {
    const out = new DeltaBuilder();
    let buf = this.pending + text;
    this.pending = '';
    while (buf.length > 0) {
      if (this.phase === 'content') {
        out.add('content', buf);
        return out.build();
      }
      const channel = this.phase === 'reasoning' ? 'reasoning' : 'content';
      const match = findFirstTag(buf, THINK_TAGS);
      if (match === null) {
        const held = partialTagLength(buf, THINK_TAGS);
        out.add(channel, buf.slice(0, buf.length - held));
        this.pending = buf.slice(buf.length - held);
        return out.build();
      }
      out.add(channel, buf.slice(0, match.index));
      buf = buf.slice(match.index + match.tag.length);
      // `<seed:think>` opens (or, already inside, is a repeated opener: dropped); `</seed:think>` ends.
      this.phase = match.tag === THINK_START ? 'reasoning' : 'content';
    }
    return out.build();
  }

  /** End of the reply: a held partial tag was plain text after all. */
  finish(): ReasoningDelta {
    const out = new DeltaBuilder();
    out.add(this.phase === 'reasoning' ? 'reasoning' : 'content', this.pending);
    this.pending = '';
    return out.build();
  }
}

/** Splits a whole reply (see the file header; `</seed:think>` with no opener ends a prompt-opened block). */
export function extractReasoning(text: string, options: ReasoningParserOptions = {}): ReasoningExtraction {
  const firstEnd = text.indexOf(THINK_END);
  const firstStart = text.indexOf(THINK_START);
  const strayEnd = firstEnd >= 0 && (firstStart < 0 || firstEnd < firstStart);
  const parser = new SeedReasoningStreamParser({ startsInReasoning: options.startsInReasoning || strayEnd });
  const first = parser.push(text);
  const last = parser.finish();
  const reasoning = (first.reasoningDelta ?? '') + (last.reasoningDelta ?? '');
  const content = (first.contentDelta ?? '') + (last.contentDelta ?? '');
  return { reasoningContent: reasoning || null, content: content || null };
}

class DeltaBuilder {
  private reasoning = '';
  private content = '';

  add(channel: 'reasoning' | 'content', text: string): void {
    if (channel === 'reasoning') this.reasoning += text;
    else this.content += text;
  }

  build(): ReasoningDelta {
    const delta: ReasoningDelta = {};
    if (this.reasoning) delta.reasoningDelta = this.reasoning;
    if (this.content) delta.contentDelta = this.content;
    return delta;
  }
}
