// Loading chat templates from model directories and picking one (transformers' rules).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChatTemplateNotFoundError, loadChatTemplates, selectTemplate } from './chat-template-loader';

const dirs: string[] = [];
function modelDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-chat-template-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('loadChatTemplates', () => {
  it('prefers chat_template.jinja over tokenizer_config.json and reads special tokens', () => {
    const dir = modelDir({
      'chat_template.jinja': 'FILE',
      'tokenizer_config.json': JSON.stringify({
        chat_template: 'CONFIG',
        bos_token: '<s>',
        eos_token: { __type: 'AddedToken', content: '</s>', special: true },
        pad_token: null,
      }),
    });
    expect(loadChatTemplates(dir)).toEqual({ templates: { default: 'FILE' }, specialTokens: { bos_token: '<s>', eos_token: '</s>' } });
  });

  it('reads a string or a named list from tokenizer_config.json, plus additional_chat_templates/', () => {
    expect(loadChatTemplates(modelDir({ 'tokenizer_config.json': '{"chat_template": "T"}' })).templates).toEqual({ default: 'T' });
    const dir = modelDir({
      'tokenizer_config.json': JSON.stringify({ chat_template: [{ name: 'default', template: 'D' }, { name: 'tool_use', template: 'U' }] }),
      'additional_chat_templates/rag.jinja': 'R',
    });
    expect(loadChatTemplates(dir).templates).toEqual({ default: 'D', tool_use: 'U', rag: 'R' });
  });

  it('returns no templates for a directory without any', () => {
    expect(loadChatTemplates(modelDir({})).templates).toEqual({});
  });
});

describe('selectTemplate', () => {
  const templates = { default: 'D', tool_use: 'U' };
  it('picks tool_use only when tools are given, an explicit name always', () => {
    expect(selectTemplate(templates)).toBe('D');
    expect(selectTemplate(templates, { hasTools: true })).toBe('U');
    expect(selectTemplate({ default: 'D' }, { hasTools: true })).toBe('D');
    expect(selectTemplate(templates, { name: 'tool_use' })).toBe('U');
  });

  it('fails clearly without a usable template', () => {
    expect(() => selectTemplate({})).toThrow(ChatTemplateNotFoundError);
    expect(() => selectTemplate({ a: 'A', b: 'B' })).toThrow(/no default/);
    expect(() => selectTemplate(templates, { name: 'x' })).toThrow(/No chat template named 'x'/);
  });
});
