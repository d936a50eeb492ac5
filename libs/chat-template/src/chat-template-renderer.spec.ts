// ChatTemplateRenderer with the real Seed-OSS template: request fields become template variables
// as vLLM passes them, and OpenAI-wire inputs are normalised (JSON-string tool arguments, text
// content parts, tools without parameters, "512" budgets) before rendering.
import { describe, expect, it } from 'vitest';
import { ChatTemplateRenderer } from './chat-template-renderer';
import { ChatTemplateInputError, ChatMessage } from './chat-messages';
import { ChatTemplate } from './chat-template';
import { readSeedOssJson, readSeedOssText } from '../../../test/helpers/seed-oss-fixtures';

const source = readSeedOssText('chat_template.jinja');
const extra = readSeedOssJson('chat_template_extra_cases.json');
const base = readSeedOssJson('chat_template_cases.json');
const renderer = new ChatTemplateRenderer({ default: source }, { bos_token: '<seed:bos>', eos_token: '<seed:eos>' });
const raw = new ChatTemplate(source);

describe('ChatTemplateRenderer (Seed-OSS)', () => {
  it('parses tool-call arguments sent as JSON strings, like vLLM', () => {
    const messages = extra.tool_call_arguments_as_json_string.context.messages as ChatMessage[];
    const asObject = structuredClone(messages);
    asObject[1].tool_calls![0].function.arguments = { location: 'Paris' };
    expect(renderer.render({ messages })).toBe(raw.render({ messages: asObject, add_generation_prompt: true }));
    expect(messages[1].tool_calls![0].function.arguments).toBe('{"location": "Paris"}'); // input untouched
  });

  it('passes thinking_budget from the request field or chat_template_kwargs (field wins)', () => {
    const { messages } = base.budget_512.context;
    expect(renderer.render({ messages, thinkingBudget: 512 })).toBe(base.budget_512.expected);
    expect(renderer.render({ messages, chatTemplateKwargs: { thinking_budget: 512 } })).toBe(base.budget_512.expected);
    expect(renderer.render({ messages, thinkingBudget: 512, chatTemplateKwargs: { thinking_budget: 0 } })).toBe(base.budget_512.expected);
    expect(renderer.render({ messages, thinkingBudget: '512' })).toBe(base.budget_512.expected);
    expect(renderer.render({ messages, thinkingBudget: null })).not.toContain('thinking budget');
  });

  it('renders every reference case without an error from the request form', () => {
    for (const c of [...Object.values(base), ...Object.values(extra)] as Array<{ context: Record<string, unknown>; expected: string | null }>) {
      if (c.expected === null) continue;
      const { messages, tools, add_generation_prompt, thinking_budget, ...kwargs } = c.context as Record<string, never>;
      const out = renderer.render({ messages, tools, addGenerationPrompt: add_generation_prompt, thinkingBudget: thinking_budget, chatTemplateKwargs: kwargs });
      expect(out).toBe(c.expected);
    }
  });

  it('flattens text content parts and defaults missing tool parameters', () => {
    const parts = renderer.render({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] });
    expect(parts).toBe('<seed:bos>user\nhi<seed:eos><seed:bos>assistant\n');
    const { messages, tools } = extra.tool_without_parameters.context;
    expect(renderer.render({ messages, tools })).toContain('def ping():');
  });

  it('rejects unparseable arguments and non-text parts as input errors', () => {
    const bad: ChatMessage[] = [{ role: 'assistant', tool_calls: [{ function: { name: 'f', arguments: '{oops' } }] }];
    expect(() => renderer.render({ messages: bad })).toThrow(ChatTemplateInputError);
    const image: ChatMessage[] = [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }];
    expect(() => renderer.render({ messages: image })).toThrow(ChatTemplateInputError);
  });

  it('hands special tokens, tools=None and documents=None to the template', () => {
    const probe = new ChatTemplateRenderer({ default: '{{ bos_token }}|{{ eos_token }}|{{ tools }}|{{ documents }}|{{ add_generation_prompt }}' }, { bos_token: '<s>', eos_token: '</s>' });
    expect(probe.render({ messages: [] })).toBe('<s>|</s>|None|None|True');
    expect(probe.render({ messages: [], addGenerationPrompt: false, chatTemplateKwargs: { bos_token: 'B' } })).toBe('B|</s>|None|None|False');
  });
});
