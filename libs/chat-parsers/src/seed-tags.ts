// Seed-OSS control tags as they appear in decoded text (added tokens with special=false, so
// decoding keeps them as text). Their ids come from the tokenizer that serves the model
// (thinking-budget.factory.ts looks them up), never from a table here.

export const THINK_START = '<seed:think>';
export const THINK_END = '</seed:think>';
export const BUDGET_REFLECT_START = '<seed:cot_budget_reflect>';
export const BUDGET_REFLECT_END = '</seed:cot_budget_reflect>';
export const TOOL_CALL_START = '<seed:tool_call>';
export const TOOL_CALL_END = '</seed:tool_call>';
export const FUNCTION_PREFIX = '<function=';
export const FUNCTION_END = '</function>';
export const PARAMETER_PREFIX = '<parameter=';
export const PARAMETER_END = '</parameter>';

