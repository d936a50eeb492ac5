// Scripts of a scripted checkpoint: what a trigger token makes the model say under greedy
// decoding. Validation of a script file (`tpserve make-tiny-model --script FILE`, JSON
// `{"scripts": [...]}`) and the split of a reply into the tokenizer's added tokens (which keep
// their ids: <seed:think>=3, </seed:think>=4, ... <seed:eos>=2) and the text between them.
// Tests: npx vitest run libs/tiny-model

import * as fs from 'node:fs';
import { SEED_EOS, type AddedToken } from './seed-oss-special-tokens';

/** The last token of the prompt that starts a script: give exactly one of the two. */
export interface ScriptTrigger {
  /** The trigger is the last token of this text, encoded with the scripted tokenizer. */
  afterText?: string;
  /** The trigger is this token id. */
  tokenId?: number;
}

export interface Script {
  name: string;
  trigger: ScriptTrigger;
  /** What greedy decoding produces after the trigger; `<seed:eos>` is appended when missing. */
  reply: string;
}

/** A piece of a reply: an existing added token (by id), or text that becomes new added tokens. */
export type ReplyPart = { kind: 'token'; id: number; content: string } | { kind: 'text'; text: string };

function fail(message: string): never {
  throw new Error(`make-tiny-model --script: ${message}`);
}

/** Checks the shape of each script; throws one clear Error naming the offending script. */
export function validateScripts(value: unknown): Script[] {
  const scripts = (value as { scripts?: unknown } | null)?.scripts;
  if (!Array.isArray(scripts) || scripts.length === 0) fail('expected {"scripts": [{name, trigger, reply}, ...]} with at least one script');
  const names = new Set<string>();
  return scripts.map((s: unknown, i) => {
    const { name, trigger, reply } = (s ?? {}) as Record<string, unknown>;
    const label = typeof name === 'string' ? `script '${name}'` : `script #${i}`;
    if (typeof name !== 'string' || name === '') fail(`${label}: name must be a non-empty string`);
    if (names.has(name)) fail(`${label}: the name is used twice`);
    names.add(name);
    if (typeof reply !== 'string' || reply === '') fail(`${label}: reply must be a non-empty string`);
    const { afterText, tokenId } = (trigger ?? {}) as ScriptTrigger;
    if ((afterText === undefined) === (tokenId === undefined)) fail(`${label}: trigger needs exactly one of afterText and tokenId`);
    if (afterText !== undefined && (typeof afterText !== 'string' || afterText === '')) fail(`${label}: trigger.afterText must be a non-empty string`);
    if (tokenId !== undefined && !(Number.isSafeInteger(tokenId) && tokenId >= 0)) fail(`${label}: trigger.tokenId must be a non-negative integer`);
    return { name, trigger: afterText !== undefined ? { afterText } : { tokenId }, reply };
  });
}

export function readScriptFile(file: string): Script[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return fail(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return validateScripts(JSON.parse(text));
  } catch (err) {
    if (err instanceof SyntaxError) fail(`${file} is not JSON: ${err.message}`);
    throw err;
  }
}

/** The reply as it is generated: ending with exactly one `<seed:eos>`. */
export function withEos(reply: string): string {
  return reply.endsWith(SEED_EOS) ? reply : reply + SEED_EOS;
}

/**
 * Splits `reply` at the base tokenizer's added tokens (longest first, as the tokenizer matches
 * them); the text between becomes parts of kind 'text'.
 */
export function splitReply(reply: string, addedTokens: readonly AddedToken[]): ReplyPart[] {
  const byContent = new Map(addedTokens.map((t) => [t.content, t.id]));
  const escaped = [...byContent.keys()].sort((a, b) => b.length - a.length).map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const pattern = new RegExp(escaped.join('|'), 'g');
  const parts: ReplyPart[] = [];
  let last = 0;
  for (const match of reply.matchAll(pattern)) {
    if (match.index > last) parts.push({ kind: 'text', text: reply.slice(last, match.index) });
    parts.push({ kind: 'token', id: byContent.get(match[0])!, content: match[0] });
    last = match.index + match[0].length;
  }
  if (last < reply.length) parts.push({ kind: 'text', text: reply.slice(last) });
  return parts;
}
