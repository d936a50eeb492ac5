// Finds a model's chat template(s) and special tokens in its directory, the way transformers
// does: chat_template.jinja (plus additional_chat_templates/<name>.jinja) wins over
// tokenizer_config.json `chat_template`, which is a string or a list of {name, template}.
// selectTemplate picks like transformers' get_chat_template: an explicit name, else "tool_use"
// when tools are given and it exists, else "default". Tests: chat-template-loader.spec.ts.
import * as fs from 'fs';
import * as path from 'path';

export interface ModelChatTemplates {
  /** Template sources by name; a single unnamed template is stored as "default". */
  templates: Record<string, string>;
  /** String special tokens from tokenizer_config.json (bos_token, eos_token, pad_token, ...). */
  specialTokens: Record<string, string>;
}

const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

export class ChatTemplateNotFoundError extends Error {
  override name = 'ChatTemplateNotFoundError';
}

/** A token given as a string or as a serialized AddedToken ({content: ...}). */
export function tokenContent(token: unknown): string | undefined {
  if (typeof token === 'string') return token;
  if (token && typeof token === 'object' && typeof (token as { content?: unknown }).content === 'string') {
    return (token as { content: string }).content;
  }
  return undefined;
}

function readJsonIfExists(file: string): Record<string, unknown> | undefined {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : undefined;
}

function templatesFromConfig(value: unknown): Record<string, string> {
  if (typeof value === 'string') return { default: value };
  if (Array.isArray(value)) {
    const named: Record<string, string> = {};
    for (const entry of value as Array<{ name?: unknown; template?: unknown }>) {
      if (typeof entry?.name === 'string' && typeof entry.template === 'string') named[entry.name] = entry.template;
    }
    return named;
  }
  return {};
}

export function loadChatTemplates(modelDir: string): ModelChatTemplates {
  const config = readJsonIfExists(path.join(modelDir, 'tokenizer_config.json')) ?? {};
  let templates = templatesFromConfig(config.chat_template);

  const jinjaFile = path.join(modelDir, 'chat_template.jinja');
  if (fs.existsSync(jinjaFile)) templates = { default: fs.readFileSync(jinjaFile, 'utf8') };
  const extraDir = path.join(modelDir, 'additional_chat_templates');
  if (fs.existsSync(extraDir)) {
    for (const file of fs.readdirSync(extraDir).filter((f) => f.endsWith('.jinja'))) {
      templates[file.slice(0, -'.jinja'.length)] = fs.readFileSync(path.join(extraDir, file), 'utf8');
    }
  }

  const specialTokens: Record<string, string> = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const content = tokenContent(config[key]);
    if (content !== undefined) specialTokens[key] = content;
  }
  return { templates, specialTokens };
}

/** The template to render: `name` if given, else "tool_use" when tools are present, else "default". */
export function selectTemplate(templates: Record<string, string>, options: { name?: string; hasTools?: boolean } = {}): string {
  const names = Object.keys(templates);
  if (names.length === 0) {
    throw new ChatTemplateNotFoundError('The model has no chat template (chat_template.jinja or tokenizer_config.json chat_template)');
  }
  if (options.name !== undefined) {
    const named = templates[options.name];
    if (named === undefined) throw new ChatTemplateNotFoundError(`No chat template named '${options.name}' (have: ${names.join(', ')})`);
    return named;
  }
  if (options.hasTools && templates.tool_use !== undefined) return templates.tool_use;
  if (templates.default !== undefined) return templates.default;
  throw new ChatTemplateNotFoundError(`This model has multiple chat templates with no default specified (have: ${names.join(', ')})`);
}
