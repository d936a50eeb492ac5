// Script sets for the server's end-to-end tests (docs/tiny-model.md, "Scripted checkpoints").
// Every chat prompt ends with "<seed:bos>assistant\n", so a checkpoint has ONE chat script; the
// others are reached by the thinking_budget=0 prefill (trigger <seed:cot_budget_reflect>) and by
// raw /v1/completions prompts. Tests that need another chat reply make another checkpoint.
//   DEFAULT_SCRIPTS:   chat -> think + answer; budget 0 -> close the think block + same answer;
//                      completions prompt ending in "?" -> a get_weather tool call.
//   TOOL_CALL_SCRIPTS: chat -> think + the get_weather tool call; budget 0 -> the same call.
// The answer after </seed:think> is the same in every script of a set, since </seed:think> (also
// appended by the server when a thinking budget runs out) has one successor.

import type { Script } from './scripted-script';

/** The chat generation prompt's end: its last token ("\n") triggers the chat script. */
export const CHAT_TRIGGER_TEXT = '<seed:bos>assistant\n';
/** thinking_budget=0 makes the template end the prompt with <seed:think><seed:cot_budget_reflect>. */
export const BUDGET_REFLECT_START_ID = 5;
/** A /v1/completions prompt ending in "?" triggers the completions script of DEFAULT_SCRIPTS. */
export const COMPLETIONS_TRIGGER_TEXT = 'What is the weather in Barcelona?';

export const CHAT_REASONING = 'Got it, the user wants the capital of France. That is Paris, so I will answer briefly.';
export const CHAT_ANSWER = 'The capital of France is Paris. It is known for the Eiffel Tower and fine food.';
/** What the model writes after the budget-0 prefill, before `</seed:cot_budget_reflect></seed:think>`. */
export const BUDGET_0_REFLECTION = 'The current thinking budget is 0, so I will directly start answering the question.';

export const WEATHER_TOOL_CALL =
  '<seed:tool_call>\n<function=get_weather>\n<parameter=location>\nBarcelona, Spain\n</parameter>\n' +
  '<parameter=days>\n3\n</parameter>\n</function>\n</seed:tool_call>';
export const TOOL_CALL_REASONING = 'The user asks about the weather, so I will call get_weather for Barcelona.';

/** A budget-0 reply that closes the think block and then says `afterThink`. */
export function budgetZeroReply(afterThink: string): string {
  return `${BUDGET_0_REFLECTION}</seed:cot_budget_reflect></seed:think>${afterThink}`;
}

export const DEFAULT_SCRIPTS: Script[] = [
  { name: 'chat', trigger: { afterText: CHAT_TRIGGER_TEXT }, reply: `<seed:think>${CHAT_REASONING}</seed:think>${CHAT_ANSWER}` },
  { name: 'budget-0', trigger: { tokenId: BUDGET_REFLECT_START_ID }, reply: budgetZeroReply(CHAT_ANSWER) },
  { name: 'tool-call', trigger: { afterText: COMPLETIONS_TRIGGER_TEXT }, reply: WEATHER_TOOL_CALL },
];

export const TOOL_CALL_SCRIPTS: Script[] = [
  { name: 'chat-tool-call', trigger: { afterText: CHAT_TRIGGER_TEXT }, reply: `<seed:think>${TOOL_CALL_REASONING}</seed:think>${WEATHER_TOOL_CALL}` },
  { name: 'budget-0', trigger: { tokenId: BUDGET_REFLECT_START_ID }, reply: budgetZeroReply(WEATHER_TOOL_CALL) },
];
