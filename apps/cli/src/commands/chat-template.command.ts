// `tpserve chat-template --model DIR --input FILE`: prints the prompt the server would render for
// FILE = {"messages": [...], "tools": [...], "thinking_budget": N, "add_generation_prompt": true,
// "chat_template_kwargs": {...}} exactly (no newline added). A thin wrapper over libs/chat-template.
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { ChatTemplateRenderer } from '../../../../libs/chat-template/src/chat-template-renderer';
import type { ChatMessage, ChatTool } from '../../../../libs/chat-template/src/chat-messages';

interface ChatTemplateInput {
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
    .requiredOption('--input <file>', 'JSON file: messages, tools, thinking_budget, add_generation_prompt')
    .action((opts: { model: string; input: string }) => {
      const input = JSON.parse(fs.readFileSync(opts.input, 'utf8')) as ChatTemplateInput;
      if (!Array.isArray(input.messages)) throw new Error(`${opts.input}: "messages" must be an array`);
      const prompt = ChatTemplateRenderer.fromModelDir(opts.model).render({
        messages: input.messages,
        tools: input.tools,
        thinkingBudget: input.thinking_budget,
        addGenerationPrompt: input.add_generation_prompt ?? true,
        chatTemplateKwargs: input.chat_template_kwargs,
      });
      process.stdout.write(prompt);
    });
}
