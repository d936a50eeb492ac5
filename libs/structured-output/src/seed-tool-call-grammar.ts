// The grammar of a forced Seed-OSS tool call: `<seed:tool_call>\n<function=NAME>\n` then the
// tool's parameters as `<parameter=P>\nVALUE\n</parameter>\n` in declared order (required ones
// always, no undeclared ones), `</function>\n`, more functions or `</seed:tool_call>`. A value is
// raw text where the Seed parser keeps it a string (param-converter's resolveParamType), else
// JSON; either way it satisfies the parameter's schema once the parser has typed it. The tags
// that are added tokens are taken only as those tokens. Tests: seed-tool-call-grammar.spec.ts.
import { resolveParamType } from '../../chat-parsers/src/param-converter';
import { FUNCTION_END, PARAMETER_END, TOOL_CALL_END, TOOL_CALL_START } from '../../chat-parsers/src/seed-tags';
import type { GrammarNode, NodeFactory } from './grammar-node';
import { SchemaCompiler } from './schema-compiler';
import { SchemaError } from './schema-error';

/** The tags a tool-call grammar takes as whole added tokens when the tokenizer has them. */
export const SEED_TOOL_CALL_TAGS = [TOOL_CALL_START, TOOL_CALL_END];

export interface ToolSpec {
  name: string;
  /** The function's `parameters` (a JSON Schema object); undefined: no parameters. */
  parameters?: unknown;
}

export function buildSeedToolCallGrammar(
  nodes: NodeFactory,
  tools: readonly ToolSpec[],
  addedTokens: ReadonlyMap<string, number>,
): GrammarNode {
  if (tools.length === 0) throw new SchemaError('tools', '', 'a forced tool call needs at least one tool');
  const tag = (text: string): GrammarNode => nodes.literal(text, addedTokens.get(text) ?? null);
  const call = nodes.choice(tools.map((tool, i) => nodes.sequence([
    nodes.literal(`<function=${tool.name}>\n`),
    parametersNode(nodes, tool, `/tools/${i}/function/parameters`),
    nodes.literal(`${FUNCTION_END}\n`),
  ])));
  // after a call: the closing tag, or another call
  const rest = nodes.make({ kind: 'choice', branches: [] as GrammarNode[] });
  rest.branches.push(tag(TOOL_CALL_END), nodes.sequence([call, rest]));
  return nodes.sequence([tag(TOOL_CALL_START), nodes.literal('\n'), call, rest]);
}

function parametersNode(nodes: NodeFactory, tool: ToolSpec, pointer: string): GrammarNode {
  const schema = (tool.parameters ?? {}) as Record<string, unknown>;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new SchemaError('parameters', pointer, 'a tool\'s parameters must be a JSON Schema object');
  }
  if (schema.type !== undefined && schema.type !== 'object') throw new SchemaError('type', pointer, "a tool's parameters must have type 'object'");
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  const required = Array.isArray(schema.required) ? (schema.required as unknown[]) : [];
  const compiler = new SchemaCompiler(nodes, schema);
  const members = Object.entries(properties).map(([name, sub]) => {
    const value = compiler.compile(sub, `${pointer}/properties/${name}`, { rawStrings: resolveParamType(sub) === 'string' });
    return {
      node: nodes.sequence([nodes.literal(`<parameter=${name}>\n`), value, nodes.literal(`\n${PARAMETER_END}\n`)]),
      required: required.includes(name),
    };
  });
  return nodes.make({ kind: 'members', spec: { open: '', close: '', separator: '', members, extra: null } });
}
