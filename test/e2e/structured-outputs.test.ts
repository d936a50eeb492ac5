// Structured outputs end to end on a random-weight tiny model (which would otherwise write
// garbage), through the real server, gRPC workers at tp 2 and the native sampler: every
// json_schema reply that finishes with "stop" validates (ajv) across generated schemas; the
// official client's chat.completions.parse with zod; json_object on /v1/completions; streaming;
// forced tool calls (tool_choice required / named) parse into arguments that validate; schemas
// the grammar cannot enforce are 400s naming the keyword.
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { zodResponseFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { makeTinyModel } from '../../libs/tiny-model/src/make-tiny-model';
import { mulberry32 } from '../../libs/tiny-model/src/seeded-random';
import { generateSchema } from '../../libs/structured-output/test/schema-corpus';
import { postRaw, startServer, type ServerProcess } from '../helpers/server-process';

const MODEL = 'tiny-structured';
// no thinking: the budget-0 prompt closes the think block at once, so the answer starts at once
const NO_THINKING = { chat_template_kwargs: { thinking_budget: 0 } };
let dir: string;
let server: ServerProcess;
const ajv = new Ajv({ strict: false });
addFormats(ajv);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-e2e-structured-'));
  makeTinyModel({ outDir: path.join(dir, MODEL) });
  server = await startServer(path.join(dir, MODEL), ['--tp', '2', '--threads', '1']);
});

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function chat(extra: Record<string, unknown>) {
  return server.client.chat.completions.create({
    model: MODEL, messages: [{ role: 'user', content: 'Answer in JSON.' }], max_tokens: 160, temperature: 1, ...NO_THINKING, ...extra,
  } as never) as unknown as Promise<{ choices: Array<{ finish_reason: string; message: { content: string | null; tool_calls?: Array<{ function: { name: string; arguments: string } }> } }> }>;
}

describe('structured outputs', () => {
  it('every json_schema reply that stops validates: 50 replies over 25 generated schemas', async () => {
    let numStopped = 0;
    for (let i = 0; i < 25; i++) {
      const schema = generateSchema(mulberry32(500 + i));
      const validate = ajv.compile(schema);
      const res = await chat({ seed: i, n: 2, response_format: { type: 'json_schema', json_schema: { name: `s${i}`, schema, strict: true } } });
      for (const choice of res.choices) {
        if (choice.finish_reason !== 'stop') continue;
        numStopped++;
        const value = JSON.parse(choice.message.content!) as unknown;
        expect(validate(value), `${JSON.stringify(schema)} -> ${choice.message.content}`).toBe(true);
      }
    }
    console.log(`json_schema: ${numStopped} of 50 replies stopped and validated`);
    expect(numStopped).toBeGreaterThanOrEqual(12);
  });

  it('works with the official client: chat.completions.parse with zod', async () => {
    const Answer = z.object({ ok: z.boolean(), digit: z.number().int().min(0).max(9), color: z.enum(['red', 'blue']), tags: z.array(z.enum(['a', 'b'])).max(2) });
    for (let seed = 0; seed < 3; seed++) {
      const res = await server.client.chat.completions.parse({
        model: MODEL, messages: [{ role: 'user', content: 'Give me an answer.' }], max_tokens: 120, seed,
        response_format: zodResponseFormat(Answer, 'answer'), ...NO_THINKING,
      } as never);
      const parsed = (res as unknown as { choices: Array<{ message: { parsed: unknown } }> }).choices[0].message.parsed;
      expect(Answer.safeParse(parsed).success).toBe(true);
    }
  });

  it('streams a json_schema reply whose concatenated content validates', async () => {
    const schema = { type: 'object', properties: { name: { type: 'string', maxLength: 12 }, n: { type: 'integer', minimum: -5, maximum: 5 } }, required: ['name', 'n'], additionalProperties: false };
    const stream = await server.client.chat.completions.create({
      model: MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: 80, stream: true, seed: 3,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema } }, ...NO_THINKING,
    } as never) as unknown as AsyncIterable<{ choices: Array<{ delta: { content?: string | null }; finish_reason: string | null }> }>;
    let content = '';
    let finish: string | null = null;
    let numChunks = 0;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      numChunks++;
    }
    expect(finish).toBe('stop');
    expect(numChunks).toBeGreaterThan(3);
    expect(ajv.validate(schema, JSON.parse(content))).toBe(true);
  });

  it('json_object on /v1/completions returns a JSON object', async () => {
    // A random model closes an object only by chance (its strings run on): 16 samples of up to
    // 400 tokens, of which several stop whatever the kernels' rounding (6 of 16 with a bf16 KV
    // cache; 4 samples of 120 tokens had 1 with an f32 cache and none with a bf16 one)
    const res = await server.client.completions.create({ model: MODEL, prompt: 'JSON:', max_tokens: 400, n: 16, seed: 1, response_format: { type: 'json_object' } } as never);
    const stopped = res.choices.filter((c) => c.finish_reason === 'stop');
    expect(stopped.length).toBeGreaterThan(0);
    for (const c of stopped) {
      const value = JSON.parse(c.text) as unknown;
      expect(typeof value === 'object' && value !== null && !Array.isArray(value)).toBe(true);
    }
  });

  it('tool_choice "required" and a named function force a call whose arguments validate', async () => {
    const parameters = { type: 'object', properties: { city: { type: 'string', maxLength: 10 }, days: { type: 'integer', minimum: 1, maximum: 7 }, metric: { type: 'boolean' } }, required: ['city', 'days'] };
    const tools = [
      { type: 'function', function: { name: 'get_weather', parameters } },
      { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { enum: ['UTC', 'CET'] } }, required: ['zone'] } } },
    ];
    const validators = { get_weather: ajv.compile(parameters), get_time: ajv.compile(tools[1].function.parameters) };
    let numCalls = 0;
    for (const toolChoice of ['required', { type: 'function', function: { name: 'get_time' } }]) {
      const res = await chat({ tools, tool_choice: toolChoice, seed: 2, n: 2 });
      for (const choice of res.choices) {
        if (choice.finish_reason === 'length') continue;
        expect(choice.message.tool_calls?.length).toBeGreaterThan(0);
        for (const call of choice.message.tool_calls!) {
          const name = call.function.name as keyof typeof validators;
          if (typeof toolChoice === 'object') expect(name).toBe('get_time');
          expect(validators[name](JSON.parse(call.function.arguments)), call.function.arguments).toBe(true);
          numCalls++;
        }
      }
    }
    expect(numCalls).toBeGreaterThanOrEqual(2);
  });

  it.each([
    [{ type: 'json_schema', json_schema: { name: 'x', schema: { type: 'array', uniqueItems: true } } }, 'uniqueItems'],
    [{ type: 'json_schema', json_schema: { name: 'x', schema: { type: 'string', pattern: '(?<=a)b' } } }, 'pattern'],
    [{ type: 'yaml' }, 'response_format.type'],
  ])('answers 400 for %j naming %s', async (format, keyword) => {
    const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x' }], response_format: format });
    const res = await postRaw(server.baseUrl, '/v1/chat/completions', body, { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json)).toContain(keyword);
  });
});
