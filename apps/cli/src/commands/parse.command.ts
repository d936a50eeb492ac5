// `tpserve parse --model DIR [--tools FILE] [--starts-in-reasoning]`: reads a model output on
// stdin and prints {reasoning_content, content, tool_calls} as the chat API returns them (tool
// calls typed by the tools' schemas; without --tools their values stay strings). A thin wrapper
// over libs/chat-parsers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { parseSeedOutput } from '../../../../libs/chat-parsers/src/seed-output-parser';
import type { ChatCompletionTool } from '../../../../libs/openai-protocol/src/tool-call.types';

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function readTools(file: string | undefined): ChatCompletionTool[] | null {
  if (file === undefined) return null;
  const value = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  const tools = Array.isArray(value) ? value : (value as { tools?: unknown }).tools;
  if (!Array.isArray(tools)) throw new Error(`${file}: expected a list of tools or {"tools": [...]}`);
  return tools as ChatCompletionTool[];
}

export function registerParse(program: Command): void {
  program
    .command('parse')
    .description('parse a Seed-OSS output (stdin) into {reasoning_content, content, tool_calls} as the API returns it')
    .requiredOption('--model <dir>', 'model directory (checked to exist)')
    .option('--tools <file>', 'JSON file with the request tools (a list, or {"tools": [...]})')
    .option('--starts-in-reasoning', 'the prompt left a <seed:think> block open (thinking_budget 0)')
    .action(async (opts: { model: string; tools?: string; startsInReasoning?: boolean }) => {
      if (!fs.existsSync(path.join(opts.model, 'config.json')) && !fs.existsSync(path.join(opts.model, 'tokenizer.json'))) {
        throw new Error(`--model ${opts.model} is not a model directory`);
      }
      const parsed = parseSeedOutput(await readStdin(), { tools: readTools(opts.tools), startsInReasoning: opts.startsInReasoning ?? false });
      process.stdout.write(JSON.stringify(parsed, null, 2) + '\n');
    });
}
