// Reasoning parser: every case of reasoning_parser_cases.json (non-streaming, the upstream stream
// deltas, and every split), the startsInReasoning flag, held-back partial tags.
import { describe, expect, it } from 'vitest';
import { exhaustiveSplits, loadFixture, randomSplits, sameJson } from '../test/fixtures';
import {
  extractReasoning,
  promptOpensReasoning,
  type ReasoningExtraction,
  SeedReasoningStreamParser,
} from './seed-reasoning-parser';

interface ReasoningCase {
  id: string;
  modes?: string[];
  model_output: string;
  streaming_deltas?: string[];
  expected: { reasoning: string | null; content: string | null };
  is_reasoning_end?: boolean;
}
interface TokenCase {
  id: string;
  input_ids: (number | 'END')[];
  expected: boolean | number[];
}
const fixture = loadFixture<{ cases: ReasoningCase[]; derived_cases: ReasoningCase[]; token_cases: TokenCase[] }>(
  'reasoning_parser_cases.json',
);

/** The vLLM fixtures assume the parser starts in reasoning (see the fixture's streaming rule). */
const VLLM = { startsInReasoning: true };

function stream(pieces: readonly string[], startsInReasoning: boolean): ReasoningExtraction & { isEnd: boolean } {
  const parser = new SeedReasoningStreamParser({ startsInReasoning });
  let reasoning = '';
  let content = '';
  for (const delta of [...pieces.map((p) => parser.push(p)), parser.finish()]) {
    reasoning += delta.reasoningDelta ?? '';
    content += delta.contentDelta ?? '';
  }
  return { reasoningContent: reasoning || null, content: content || null, isEnd: parser.isReasoningEnd };
}

function expected(c: ReasoningCase): ReasoningExtraction {
  return { reasoningContent: c.expected.reasoning, content: c.expected.content };
}

describe('reasoning_parser_cases.json: cases', () => {
  for (const c of fixture.cases) {
    it(`${c.id}: non-streaming`, () => {
      expect(extractReasoning(c.model_output, VLLM)).toEqual(expected(c));
    });
    it(`${c.id}: streaming, upstream deltas`, () => {
      const { isEnd, ...result } = stream(c.streaming_deltas ?? [c.model_output], true);
      expect(result).toEqual(expected(c));
      if (c.is_reasoning_end !== undefined) expect(isEnd).toBe(c.is_reasoning_end);
    });
    it(`${c.id}: streaming, every split`, () => {
      for (const pieces of exhaustiveSplits(c.model_output)) {
        const { isEnd: _, ...result } = stream(pieces, true);
        if (!sameJson(result, expected(c))) expect(result, JSON.stringify(pieces)).toEqual(expected(c));
      }
    });
  }
});

describe('reasoning_parser_cases.json: derived cases', () => {
  for (const c of fixture.derived_cases) {
    it(`${c.id}: non-streaming and every split`, () => {
      expect(extractReasoning(c.model_output, VLLM)).toEqual(expected(c));
      // a reply that opens its own block parses the same without the flag
      if (c.model_output.startsWith('<seed:think>')) expect(extractReasoning(c.model_output)).toEqual(expected(c));
      for (const pieces of randomSplits(c.model_output, 200, 7)) {
        const { isEnd: _, ...result } = stream(pieces, true);
        if (!sameJson(result, expected(c))) expect(result, JSON.stringify(pieces)).toEqual(expected(c));
      }
    });
  }
});

describe('startsInReasoning', () => {
  it('without it, a reply with no think tag is all content', () => {
    expect(extractReasoning('Just an answer.')).toEqual({ reasoningContent: null, content: 'Just an answer.' });
    expect(stream(['Just ', 'an answer.'], false)).toMatchObject({ reasoningContent: null, content: 'Just an answer.' });
  });

  it('without it, text before <seed:think> is content and the block is reasoning', () => {
    const text = '<seed:think>plan</seed:think>answer';
    expect(extractReasoning(text)).toEqual({ reasoningContent: 'plan', content: 'answer' });
    expect(stream([...text], false)).toMatchObject({ reasoningContent: 'plan', content: 'answer', isEnd: true });
  });

  it('non-streaming: </seed:think> with no opener ends a prompt-opened block, flag or not', () => {
    const text = 'The current thinking budget is 0.</seed:cot_budget_reflect>\n</seed:think>Answer';
    const result = { reasoningContent: 'The current thinking budget is 0.</seed:cot_budget_reflect>\n', content: 'Answer' };
    expect(extractReasoning(text)).toEqual(result);
    expect(extractReasoning(text, VLLM)).toEqual(result);
  });

  it('streaming without the flag cannot take back sent content: a stray </seed:think> is dropped', () => {
    expect(stream(['thought</seed:think>', 'Answer'], false)).toMatchObject({ reasoningContent: null, content: 'thoughtAnswer' });
  });

  it('a repeated <seed:think> inside reasoning is dropped; text after the first end is verbatim', () => {
    const text = '<seed:think>a<seed:think>b</seed:think>c<seed:think>d</seed:think>';
    const result = { reasoningContent: 'ab', content: 'c<seed:think>d</seed:think>' };
    expect(extractReasoning(text, VLLM)).toEqual(result);
    expect(extractReasoning(text)).toEqual(result);
  });

  it('promptOpensReasoning reads the rendered prompts (budget 0 pre-fills the block)', () => {
    const prompts = loadFixture<{ rendered_prompts_for_vllm_tool_call_demo: { by_thinking_budget: Record<string, string> } }>(
      'seed_oss_repo_examples.json',
    ).rendered_prompts_for_vllm_tool_call_demo.by_thinking_budget;
    expect(promptOpensReasoning(prompts['0'])).toBe(true);
    expect(promptOpensReasoning(prompts['-1'])).toBe(false);
    expect(promptOpensReasoning(prompts['512'])).toBe(false);
    expect(promptOpensReasoning('<seed:bos>assistant\n<seed:think>old</seed:think>done')).toBe(false);
  });
});

describe('partial tags are held back, never emitted', () => {
  it('a tag cut in two is not sent until it is known', () => {
    const parser = new SeedReasoningStreamParser({ startsInReasoning: true });
    expect(parser.push('abc</seed:th')).toEqual({ reasoningDelta: 'abc' });
    expect(parser.push('ink>x')).toEqual({ contentDelta: 'x' });
    expect(parser.isReasoningEnd).toBe(true);
  });

  it('a held prefix that turns out not to be a tag is sent with the next delta, or at finish', () => {
    const parser = new SeedReasoningStreamParser({ startsInReasoning: true });
    expect(parser.push('a <')).toEqual({ reasoningDelta: 'a ' });
    expect(parser.push('b')).toEqual({ reasoningDelta: '<b' });
    expect(parser.push('</seed')).toEqual({});
    expect(parser.finish()).toEqual({ reasoningDelta: '</seed' });
  });

  it('no delta ever contains a fragment of a think tag (every split of a tagged reply)', () => {
    const text = '<seed:think>x<y</seed:think>z</';
    for (const pieces of exhaustiveSplits(text)) {
      const parser = new SeedReasoningStreamParser();
      const deltas = [...pieces.map((p) => parser.push(p)), parser.finish()];
      const sent = deltas.flatMap((d) => [d.reasoningDelta ?? '', d.contentDelta ?? '']).join('|');
      expect(sent, JSON.stringify(pieces)).not.toMatch(/seed|think/);
    }
  });
});
