// Seed-OSS tool-call parser, non-streaming: the whole reply through the streaming machine
// (seed-tool-call-stream-parser.ts), so both paths give the same calls and content by construction.
// Tested by seed-tool-parser.spec.ts against fixtures/seed-oss/tool_parser_cases.json.

import { SeedToolCallStreamParser, type ToolCallParserOptions } from './seed-tool-call-stream-parser';
import { accumulateToolDeltas, type ToolCallExtraction } from './tool-call-deltas';

/**
 * Calls and the remaining content of a finished reply (content null when empty). Pass the reply's
 * content only (after extractReasoning); with the default skipThinkBlocks a think block still in
 * the text is kept as content and calls written inside it are ignored.
 */
export function extractToolCalls(text: string, options: ToolCallParserOptions = {}): ToolCallExtraction {
  const parser = new SeedToolCallStreamParser(options);
  return accumulateToolDeltas([...parser.push(text), ...parser.finish()]);
}
