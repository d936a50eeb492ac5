// OpenAI chat-completions tool-call shapes (only the fields tpserve reads or writes): the request's
// `tools` entries, a finished call in a message, and a call fragment in a streamed delta.

/** One entry of the request's `tools` list. `parameters` is a JSON schema (type object). */
export interface ChatCompletionTool {
  type: 'function';
  function: {
    name: string;
    description?: string;
    parameters?: Record<string, unknown>;
    strict?: boolean;
  };
}

/** A finished call in `choices[].message.tool_calls`; `arguments` is a JSON object as text. */
export interface ChatCompletionMessageToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/**
 * A call fragment in `choices[].delta.tool_calls`: the first fragment of a call carries id, type and
 * name; later ones only `arguments` text, to be appended to the call with the same `index`.
 */
export interface ChatCompletionToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments?: string };
}
