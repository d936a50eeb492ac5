// Every reference case of the Seed-OSS chat template (rendered by Python jinja2 in transformers'
// environment) renders byte-identically; cases whose reference raised must raise the same
// Python exception and message. Run: npx vitest run libs/chat-template
import { describe, expect, it } from 'vitest';
import { readSeedOssJson, readSeedOssText } from '../../../test/helpers/seed-oss-fixtures';
import { ChatTemplate } from './chat-template';


interface ReferenceCase {
  context: Record<string, unknown>;
  expected: string | null;
  error: string | null;
}

const loadCases = (file: string): Array<[string, ReferenceCase]> =>
  Object.entries(readSeedOssJson<Record<string, ReferenceCase>>(file));

const template = new ChatTemplate(readSeedOssText('chat_template.jinja'));

describe.each(['chat_template_cases.json', 'chat_template_extra_cases.json'])('Seed-OSS template: %s', (file) => {
  const cases = loadCases(file);

  it('has cases', () => expect(cases.length).toBeGreaterThan(10));

  it.each(cases)('%s', (_name, c) => {
    if (c.error) {
      let thrown: unknown;
      try {
        template.render(c.context);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(Error);
      expect(`${(thrown as Error).name}: ${(thrown as Error).message}`).toBe(c.error);
    } else {
      expect(template.render(c.context)).toBe(c.expected);
    }
  });
});

describe('ChatTemplate', () => {
  it('renders {% generation %} blocks as their body (transformers AssistantTracker tags)', () => {
    const t = new ChatTemplate('{%- for m in messages %}{% generation %}[{{ m }}]{% endgeneration %}{% endfor %}');
    expect(t.render({ messages: ['a', 'b'] })).toBe('[a][b]');
  });

  it('reports a syntax error as TemplateSyntaxError', () => {
    expect(() => new ChatTemplate('{% if %}')).toThrow(expect.objectContaining({ name: 'TemplateSyntaxError' }));
  });

  it('raise_exception raises TemplateError with the message', () => {
    const t = new ChatTemplate("{{ raise_exception('Conversation roles must alternate') }}");
    expect(() => t.render({})).toThrow(expect.objectContaining({ name: 'TemplateError', message: 'Conversation roles must alternate' }));
  });

  it('strftime_now formats the local date like Python (C locale)', () => {
    const now = new Date();
    const out = new ChatTemplate('{{ strftime_now("%d %b %Y") }}').render({});
    const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][now.getMonth()];
    expect(out).toBe(`${String(now.getDate()).padStart(2, '0')} ${month} ${now.getFullYear()}`);
  });

  it('lets a context variable shadow a built-in name', () => {
    expect(new ChatTemplate('{{ namespace }}').render({ namespace: 'ns' })).toBe('ns');
  });
});
