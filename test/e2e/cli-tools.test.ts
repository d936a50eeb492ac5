// `tpserve chat-template` and `tpserve parse` as a user runs them: the rendered prompt is printed
// byte-exactly (Seed-OSS's reference cases, rendered with the tiny model's copy of the official
// template), and a model output parses into the API's {reasoning_content, content, tool_calls}.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../libs/tiny-model/src/make-tiny-model';
import { readSeedOssJson } from '../helpers/seed-oss-fixtures';
import { runCli } from '../helpers/server-process';

let dir: string;
let model: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-cli-tools-'));
  model = path.join(dir, 'tiny');
  makeTinyModel({ outDir: model, numLayers: 1, hiddenSize: 16, headDim: 8, intermediateSize: 16 });
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('tpserve chat-template', () => {
  // a missing case file throws here and fails the file: never zero cases
  const cases = Object.entries(readSeedOssJson<Record<string, { context: Record<string, unknown>; expected: string | null; error: string | null }>>('chat_template_cases.json'))
    .filter(([, c]) => c.error === null)
    .slice(0, 4);

  it('has reference cases to print', () => expect(cases.length).toBe(4));

  it.each(cases)('prints case %s exactly', async (name, c) => {
    const input = path.join(dir, `${name}.json`);
    fs.writeFileSync(input, JSON.stringify(c.context));
    const res = await runCli(['chat-template', '--model', model, '--input', input]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(c.expected);
  });

  it('passes unknown top-level keys to the template, as apply_chat_template(**kwargs) does', async () => {
    // the reference case's use_json_tooldef sits at the top level, beside messages (Python's output)
    const c = readSeedOssJson<Record<string, { context: Record<string, unknown>; expected: string }>>('chat_template_extra_cases.json').use_json_tooldef;
    expect(c.context.use_json_tooldef).toBe(true);
    const input = path.join(dir, 'top-level-kwargs.json');
    fs.writeFileSync(input, JSON.stringify(c.context));
    const res = await runCli(['chat-template', '--model', model, '--input', input]);
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe(c.expected);
    const { use_json_tooldef: _, ...withoutKey } = c.context;
    fs.writeFileSync(input, JSON.stringify(withoutKey));
    expect((await runCli(['chat-template', '--model', model, '--input', input])).stdout).not.toBe(c.expected);
  });

  it('renders thinking_budget 0 with the prefilled think block and no trailing newline', async () => {
    const input = path.join(dir, 'budget0.json');
    fs.writeFileSync(input, JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], thinking_budget: 0, add_generation_prompt: true }));
    const res = await runCli(['chat-template', '--model', model, '--input', input]);
    expect(res.stdout.endsWith('<seed:bos>assistant\n<seed:think><seed:cot_budget_reflect>')).toBe(true);
  });
});

describe('tpserve parse', () => {
  it('splits reasoning and types tool-call arguments by the tools file', async () => {
    const tools = path.join(dir, 'tools.json');
    fs.writeFileSync(tools, JSON.stringify([{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } } } }]));
    const output = '<seed:think>Need weather.</seed:think><seed:tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</seed:tool_call>';
    const res = await runCli(['parse', '--model', model, '--tools', tools], { input: output });
    expect(res.code).toBe(0);
    const parsed = JSON.parse(res.stdout) as { reasoning_content: string; content: string | null; tool_calls: Array<{ id: string; type: string; function: { name: string; arguments: string } }> };
    expect(parsed.reasoning_content).toBe('Need weather.');
    expect(parsed.content).toBeNull();
    expect(parsed.tool_calls[0].function.name).toBe('get_weather');
    expect(JSON.parse(parsed.tool_calls[0].function.arguments)).toEqual({ city: 'Paris', days: 2 });
  });

  it('reads a budget-0 reply with --starts-in-reasoning', async () => {
    const res = await runCli(['parse', '--model', model, '--starts-in-reasoning'], { input: 'No time.</seed:cot_budget_reflect></seed:think>Answer.' });
    expect(JSON.parse(res.stdout)).toEqual({ reasoning_content: 'No time.</seed:cot_budget_reflect>', content: 'Answer.', tool_calls: [] });
  });
});
