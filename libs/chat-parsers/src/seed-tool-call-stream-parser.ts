// Seed-OSS tool-call parser, streaming: takes content deltas (split anywhere) and emits content
// and OpenAI tool-call deltas. Format: `<seed:tool_call>\n<function=NAME>\n<parameter=ARG>value
// </parameter>\n</function>\n</seed:tool_call>`, several blocks (or functions in a block); a bare
// `<function=…</function>` counts too (vLLM's back-off). A call's first delta carries id, type,
// name and arguments ""; each parameter follows once complete, typed by the tool's schema
// (param-converter.ts), then `}` on `</function>`: a call's fragments concatenate to exactly the
// non-streaming JSON (extractToolCalls runs this same machine over the whole text).
//
// Content: text outside the calls (content-segments.ts for whitespace). A `<seed:tool_call>` block
// with no `<function=`, and a function tag whose name is broken (`<`, newline, empty, > 256 chars)
// stay in the content. With skipThinkBlocks (default) `<seed:think>…</seed:think>` is content and
// calls in it are not parsed. Like vLLM: a value lacking `</parameter>` ends at `</function>` /
// `</seed:tool_call>`; at finish() a cut value or function is completed (max_tokens).
// Tested by seed-tool-parser.spec.ts and seed-tool-call-stream-parser.spec.ts.

import type { ChatCompletionTool } from '../../openai-protocol/src/tool-call.types';
import { ContentSegments } from './content-segments';
import { convertParamValue, findToolParamSchemas, type ParamSchema } from './param-converter';
import { jsonString } from './python-json';
import * as T from './seed-tags';
import { findFirstTag, partialTagLength } from './tag-scanner';
import { DeltaCollector, type ToolStreamDelta } from './tool-call-deltas';
import { generateToolCallId } from './tool-call-id';

export interface ToolCallParserOptions {
  /** The request's `tools`; values of undeclared functions / parameters stay strings. */
  tools?: readonly ChatCompletionTool[] | null;
  /** Tool call id generator (default: random `call_<24 alnum>`). */
  generateId?: () => string;
  /** Leave `<seed:think>…</seed:think>` as content, unparsed (default true). */
  skipThinkBlocks?: boolean;
}

type Mode = 'text' | 'think' | 'block' | 'functionName' | 'functionBody' | 'parameterName' | 'parameterValue';

const MAX_NAME_LENGTH = 256;

export class SeedToolCallStreamParser {
  private readonly out = new DeltaCollector();
  private readonly content = new ContentSegments(this.out);
  private readonly textTags: string[] = [T.TOOL_CALL_START, T.FUNCTION_PREFIX];
  private mode: Mode = 'text';
  /** Unconsumed text: a partial tag, a name being read, or the undecided tail of a value. */
  private buf = '';
  private inWrapper = false;
  private blockHasFunction = false;
  /** Raw text of a block / function tag being opened, given back to the content if malformed. */
  private rawOpening = '';
  private numCalls = 0;
  private numParams = 0;
  private paramName = '';
  private valueChunks: string[] = [];
  private paramSchemas: Record<string, ParamSchema> | null = null;

  constructor(private readonly options: ToolCallParserOptions = {}) {
    if (options.skipThinkBlocks ?? true) this.textTags.push(T.THINK_START);
  }

  push(text: string): ToolStreamDelta[] {
    this.buf += text;
    while (this.step()) {
      // each step consumes a tag or a decided stretch of text
    }
    return this.out.take();
  }

  /** End of the reply: held text is plain text, an open call is completed. */
  finish(): ToolStreamDelta[] {
    const rest = this.buf;
    this.buf = '';
    if (this.mode === 'text' || this.mode === 'think') this.content.emit(rest);
    if ((this.mode === 'block' && !this.blockHasFunction) || this.mode === 'functionName') {
      this.content.emit(this.rawOpening + rest);
    }
    if (this.mode === 'parameterValue') this.completeParam(rest);
    if (this.mode === 'functionBody' || this.mode === 'parameterName' || this.mode === 'parameterValue') {
      this.closeFunction();
    }
    this.mode = 'text';
    this.content.finish();
    return this.out.take();
  }

  /** One move of the state machine; false when it needs more text. */
  private step(): boolean {
    switch (this.mode) {
      case 'text': {
        const tag = this.takeUntilTag(this.textTags, (text) => this.content.emit(text));
        if (tag === T.THINK_START) this.content.emit(tag);
        if (tag === T.TOOL_CALL_START) this.blockHasFunction = false;
        if (tag === T.TOOL_CALL_START || tag === T.FUNCTION_PREFIX) this.rawOpening = tag;
        this.inWrapper = tag === T.TOOL_CALL_START;
        return this.enter(tag, { [T.THINK_START]: 'think', [T.TOOL_CALL_START]: 'block', [T.FUNCTION_PREFIX]: 'functionName' });
      }
      case 'think': {
        const tag = this.takeUntilTag([T.THINK_END], (text) => this.content.emit(text));
        if (tag !== null) this.content.emit(tag);
        return this.enter(tag, { [T.THINK_END]: 'text' });
      }
      case 'block': {
        const keepRaw = (junk: string) => {
          if (!this.blockHasFunction) this.rawOpening += junk;
        };
        const tag = this.takeUntilTag([T.FUNCTION_PREFIX, T.TOOL_CALL_END], keepRaw);
        if (tag === T.FUNCTION_PREFIX) this.rawOpening = this.blockHasFunction ? tag : this.rawOpening + tag;
        // a block with no function in it is not a call
        if (tag === T.TOOL_CALL_END && !this.blockHasFunction) this.content.emit(this.rawOpening + tag);
        return this.enter(tag, { [T.FUNCTION_PREFIX]: 'functionName', [T.TOOL_CALL_END]: 'text' });
      }
      case 'functionName':
      case 'parameterName':
        return this.stepName();
      case 'functionBody': {
        const tags = [T.PARAMETER_PREFIX, T.FUNCTION_END, ...(this.inWrapper ? [T.TOOL_CALL_END] : [])];
        const tag = this.takeUntilTag(tags, () => undefined);
        if (tag === T.FUNCTION_END || tag === T.TOOL_CALL_END) this.closeFunction();
        const afterFunction = this.inWrapper && tag === T.FUNCTION_END ? 'block' : 'text';
        return this.enter(tag, { [T.PARAMETER_PREFIX]: 'parameterName', [T.FUNCTION_END]: afterFunction, [T.TOOL_CALL_END]: 'text' });
      }
      case 'parameterValue':
        return this.stepParameterValue();
    }
  }

  private enter(tag: string | null, next: Record<string, Mode>): boolean {
    if (tag === null) return false;
    this.mode = next[tag];
    if (this.mode === 'text') this.inWrapper = false;
    return true;
  }

  /** Reads `NAME>` after `<function=` or `<parameter=`. */
  private stepName(): boolean {
    const end = this.buf.slice(0, MAX_NAME_LENGTH + 1).search(/[<>\n]/);
    if (end < 0 && this.buf.length <= MAX_NAME_LENGTH) return false;
    const stop = end < 0 ? MAX_NAME_LENGTH : end;
    const rawName = this.buf.slice(0, stop);
    const name = rawName.trim();
    const isValid = this.buf[stop] === '>' && name.length > 0;
    this.buf = this.buf.slice(isValid ? stop + 1 : stop);
    if (this.mode === 'parameterName') {
      // a broken parameter tag is skipped; tags are looked for again from where it broke
      this.paramName = name;
      this.valueChunks = [];
      this.mode = isValid ? 'parameterValue' : 'functionBody';
    } else if (!isValid) {
      // a broken function tag is text; tags are looked for again from where it broke
      this.content.emit(this.rawOpening + rawName);
      this.mode = 'text';
      this.inWrapper = false;
    } else {
      this.startCall(name);
    }
    return true;
  }

  private startCall(name: string): void {
    this.content.startCall();
    if (this.inWrapper) this.blockHasFunction = true;
    this.numParams = 0;
    this.paramSchemas = findToolParamSchemas(this.options.tools, name);
    const id = (this.options.generateId ?? generateToolCallId)();
    this.out.toolCall({ index: this.numCalls++, id, type: 'function', function: { name, arguments: '' } });
    this.mode = 'functionBody';
  }

  private stepParameterValue(): boolean {
    // a missing </parameter> ends the value at the end of its function / block, as in vLLM
    const tags = [T.PARAMETER_END, T.FUNCTION_END, ...(this.inWrapper ? [T.TOOL_CALL_END] : [])];
    const match = findFirstTag(this.buf, tags);
    if (match === null) {
      // keep only what could still be the start of a terminator; the rest is value for sure
      const keep = Math.min(this.buf.length, T.TOOL_CALL_END.length - 1);
      this.valueChunks.push(this.buf.slice(0, this.buf.length - keep));
      this.buf = this.buf.slice(this.buf.length - keep);
      return false;
    }
    this.completeParam(this.buf.slice(0, match.index));
    this.buf = this.buf.slice(match.index + (match.tag === T.PARAMETER_END ? match.tag.length : 0));
    this.mode = 'functionBody';
    return true;
  }

  /** Consumes buf up to and including the first of `tags` (text before it to `skipped`); null: none yet. */
  private takeUntilTag(tags: readonly string[], skipped: (text: string) => void): string | null {
    const match = findFirstTag(this.buf, tags);
    const cut = match ? match.index : this.buf.length - partialTagLength(this.buf, tags);
    skipped(this.buf.slice(0, cut));
    this.buf = this.buf.slice(match ? cut + match.tag.length : cut);
    return match ? match.tag : null;
  }

  private completeParam(valueEnd: string): void {
    const raw = this.valueChunks.join('') + valueEnd;
    this.valueChunks = [];
    const schemas = this.paramSchemas;
    const schema = schemas !== null && Object.hasOwn(schemas, this.paramName) ? schemas[this.paramName] : undefined;
    const separator = this.numParams++ === 0 ? '{' : ', ';
    this.appendArguments(`${separator}${jsonString(this.paramName)}: ${convertParamValue(raw, schema)}`);
  }

  private closeFunction(): void {
    this.appendArguments(this.numParams === 0 ? '{}' : '}');
  }

  private appendArguments(text: string): void {
    this.out.toolCall({ index: this.numCalls - 1, function: { arguments: text } });
  }
}
