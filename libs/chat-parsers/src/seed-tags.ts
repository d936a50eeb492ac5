// Seed-OSS control tags as they appear in decoded text, and their token ids in the Seed-OSS
// tokenizer (added tokens with special=false, so decoding keeps them as text).

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

/** Token ids of the tags above (tokenizer_summary.json of Seed-OSS-36B). */
export const SEED_TOKEN_IDS = {
  thinkStart: 3,
  thinkEnd: 4,
  budgetReflectStart: 5,
  budgetReflectEnd: 6,
  toolCallStart: 7,
  toolCallEnd: 8,
} as const;
