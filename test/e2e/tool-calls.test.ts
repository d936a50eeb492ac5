// End to end on a scripted checkpoint whose chat reply is a think block then a Seed tool call:
// tool_calls parsed with typed arguments (non-stream and stream), finish_reason tool_calls, the
// reasoning kept apart; a tool call without tools in the request stays plain content.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScriptedModel } from '../../libs/tiny-model/src/scripted-model';
import { TOOL_CALL_REASONING, TOOL_CALL_SCRIPTS, WEATHER_TOOL_CALL } from '../../libs/tiny-model/src/scripted-default-scripts';
import { startServer, type ServerProcess } from '../helpers/server-process';

const MODEL = 'scripted-tools';
const TOOLS = [{
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather forecast', parameters: { type: 'object', properties: { location: { type: 'string' }, days: { type: 'integer' } }, required: ['location'] } },
}];
const MESSAGES = [{ role: 'user' as const, content: 'What is the weather in Barcelona for 3 days?' }];
let dir: string;
let server: ServerProcess;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-e2e-tools-'));
  makeScriptedModel({ outDir: path.join(dir, MODEL), scripts: TOOL_CALL_SCRIPTS });
  server = await startServer(path.join(dir, MODEL), ['--tp', '2', '--threads', '1']);
});

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('tool calls', () => {
  it('parses the call with typed arguments; finish_reason tool_calls', async () => {
    const res = await server.client.chat.completions.create({ model: MODEL, messages: MESSAGES, tools: TOOLS, max_tokens: 100, temperature: 0 });
    const message = res.choices[0].message as typeof res.choices[0]['message'] & { reasoning_content?: string | null };
    expect(res.choices[0].finish_reason).toBe('tool_calls');
    expect(message.reasoning_content).toBe(TOOL_CALL_REASONING);
    expect(message.content).toBeNull();
    expect(message.tool_calls).toHaveLength(1);
    const call = message.tool_calls![0] as { id: string; type: string; function: { name: string; arguments: string } };
    expect(call.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
    expect(call.type).toBe('function');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ location: 'Barcelona, Spain', days: 3 });
  });

  it('streams tool-call deltas that assemble to the same call', async () => {
    const stream = await server.client.chat.completions.create({ model: MODEL, messages: MESSAGES, tools: TOOLS, max_tokens: 100, temperature: 0, stream: true });
    const calls: Array<{ id: string; name: string; arguments: string }> = [];
    let reasoning = '';
    let content = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      reasoning += (choice.delta as { reasoning_content?: string }).reasoning_content ?? '';
      content += choice.delta.content ?? '';
      for (const d of choice.delta.tool_calls ?? []) {
        const call = (calls[d.index] ??= { id: '', name: '', arguments: '' });
        if (d.id) call.id = d.id;
        call.name += d.function?.name ?? '';
        call.arguments += d.function?.arguments ?? '';
      }
      finish = choice.finish_reason ?? finish;
    }
    expect(reasoning).toBe(TOOL_CALL_REASONING);
    expect(content).toBe('');
    expect(finish).toBe('tool_calls');
    expect(calls).toHaveLength(1);
    expect(calls[0].name).toBe('get_weather');
    // typed values, not everything as strings
    expect(JSON.parse(calls[0].arguments)).toEqual({ location: 'Barcelona, Spain', days: 3 });
  });

  it('without tools in the request the call text stays content', async () => {
    const res = await server.client.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 100, temperature: 0 });
    expect(res.choices[0].message.tool_calls).toBeUndefined();
    expect(res.choices[0].message.content).toBe(WEATHER_TOOL_CALL);
    expect(res.choices[0].finish_reason).toBe('stop');
  });

  it('sends the tool result back through the template (a follow-up turn renders and runs)', async () => {
    const res = await server.client.chat.completions.create({
      model: MODEL,
      tools: TOOLS,
      max_tokens: 100,
      temperature: 0,
      messages: [
        ...MESSAGES,
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location": "Barcelona, Spain", "days": 3}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"forecast": "sunny"}' },
      ],
    });
    // the script answers every chat turn with the same call; what matters is that it rendered and parsed
    expect(res.choices[0].message.tool_calls![0].function.name).toBe('get_weather');
  });
});
