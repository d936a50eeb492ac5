// What a structured-output request asks the grammar for: any JSON object, a JSON Schema, or a
// forced Seed tool call over the given tools. Plain data (it crosses to the mask thread).
import type { ToolSpec } from './seed-tool-call-grammar';

export type GrammarRequest =
  | { kind: 'json_object' }
  | { kind: 'json_schema'; schema: unknown }
  | { kind: 'tool_call'; tools: ToolSpec[] };
