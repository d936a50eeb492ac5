// `tpserve chat-template --model DIR --input FILE`: prints the prompt the server would render for
// FILE = {"messages": [...], "tools": [...], "thinking_budget": N, "add_generation_prompt": true,
// "chat_template_kwargs": {...}} exactly (no newline added). Any other top-level key is a template
// variable too, as Python's apply_chat_template(**kwargs) passes it (chat_template_kwargs win on a
// clash). A thin wrapper over libs/chat-template. Tests: test/e2e/cli-tools.test.ts.
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { ChatTemplateRenderer } from '../../../../libs/chat-template/src/chat-template-renderer';
import type { ChatMessage, ChatTool } from '../../../../libs/chat-template/src/chat-messages';

interface ChatTemplateInput {
  [templateVariable: string]: unknown;
  messages?: ChatMessage[];
  tools?: ChatTool[] | null;
  thinking_budget?: number | string | null;
  add_generation_prompt?: boolean;
  chat_template_kwargs?: Record<string, unknown> | null;
}

export function registerChatTemplate(program: Command): void {
  program
    .command('chat-template')
    .description("render a chat request with the model's chat template and print the prompt exactly")
    .requiredOption('--model <dir>', 'model directory (chat_template.jinja or tokenizer_config.json)')
    .requiredOption('--input <file>', 'JSON file: messages, tools, thinking_budget, add_generation_prompt, chat_template_kwargs; other keys are template variables')
    .action((opts: { model: string; input: string }) => {
      const input = JSON.parse(fs.readFileSync(opts.input, 'utf8')) as unknown;
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error(`${opts.input}: must hold a JSON object`);
      const { messages, tools, thinking_budget, add_generation_prompt, chat_template_kwargs, ...otherVariables } = input as ChatTemplateInput;
      if (!Array.isArray(messages)) throw new Error(`${opts.input}: "messages" must be an array`);
      const prompt = ChatTemplateRenderer.fromModelDir(opts.model).render({
        messages,
        tools,
        thinkingBudget: thinking_budget,
        addGenerationPrompt: add_generation_prompt ?? true,
        chatTemplateKwargs: { ...otherVariables, ...(chat_template_kwargs ?? {}) },
      });
      process.stdout.write(prompt);
    });
}
