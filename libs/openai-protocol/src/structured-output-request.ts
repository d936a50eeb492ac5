// The structured-output part of a request, as OpenAI and vLLM take it: `response_format`
// {type: "text" | "json_object" | "json_schema", json_schema: {name, schema, strict}} and a forcing
// `tool_choice` ("required" or a named function), turned into the grammar the engine enforces.
// The schema is compiled here once so that what the grammar cannot enforce is a 400 that names
// the keyword. Tests: structured-output-request.spec.ts.
import { checkGrammarRequest, type GrammarRequest } from '../../structured-output/src/grammar-compiler';
import { SchemaError } from '../../structured-output/src/schema-error';
import { OpenAiError } from './openai-error';
import { isObject, typeName } from './request-schema';
import type { ChatCompletionTool } from './tool-call.types';

type ForcingToolChoice = 'none' | 'auto' | 'required' | { name: string };

function readResponseFormat(value: unknown): GrammarRequest | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) throw OpenAiError.invalid(`'response_format' must be an object, got ${typeName(value)}`, 'response_format', 'invalid_type');
  switch (value.type) {
    case 'text': return null;
    case 'json_object': return { kind: 'json_object' };
    case 'json_schema': {
      const spec = value.json_schema;
      if (!isObject(spec)) throw OpenAiError.invalid("'response_format.json_schema' must be an object with a 'schema'", 'response_format.json_schema', 'invalid_type');
      if (spec.name !== undefined && typeof spec.name !== 'string') throw OpenAiError.invalid("'response_format.json_schema.name' must be a string", 'response_format.json_schema.name', 'invalid_type');
      if (spec.strict !== undefined && spec.strict !== null && typeof spec.strict !== 'boolean') throw OpenAiError.invalid("'response_format.json_schema.strict' must be a boolean", 'response_format.json_schema.strict', 'invalid_type');
      const schema = spec.schema ?? {};
      if (typeof schema !== 'boolean' && !isObject(schema)) throw OpenAiError.invalid("'response_format.json_schema.schema' must be a JSON Schema object", 'response_format.json_schema.schema', 'invalid_type');
      return { kind: 'json_schema', schema };
    }
    default:
      throw OpenAiError.invalid(`'response_format.type' must be 'text', 'json_object' or 'json_schema', got ${JSON.stringify(value.type)}`, 'response_format.type', 'invalid_value');
  }
}

/** The grammar a request asks for (null: free text); throws a 400 OpenAiError. */
export function readGrammarRequest(
  responseFormat: unknown,
  tools: readonly ChatCompletionTool[] | null = null,
  toolChoice: ForcingToolChoice = 'none',
): GrammarRequest | null {
  let request: GrammarRequest | null;
  let param: string;
  if (tools !== null && (toolChoice === 'required' || typeof toolChoice === 'object')) {
    const forced = typeof toolChoice === 'object' ? tools.filter((t) => t.function.name === toolChoice.name) : tools;
    request = { kind: 'tool_call', tools: forced.map((t) => ({ name: t.function.name, parameters: t.function.parameters })) };
    param = 'tools';
  } else {
    request = readResponseFormat(responseFormat);
    param = 'response_format.json_schema.schema';
  }
  if (request === null) return null;
  try {
    checkGrammarRequest(request);
  } catch (e) {
    if (e instanceof SchemaError) throw OpenAiError.invalid(`The schema cannot be enforced: ${e.message}`, param, 'invalid_schema');
    throw e;
  }
  return request;
}
