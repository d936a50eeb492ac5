// The HTTP side of `tpserve bench`: one streamed OpenAI request with plain fetch, timed per SSE
// chunk (TTFT, inter-chunk latencies, end to end), with output tokens from
// stream_options.include_usage; plus the small non-streamed calls the bench needs (model list,
// prompt token counts, /metrics).
import type { RequestResult } from './serving-stats';

export type Endpoint = 'chat' | 'completions';

export interface ServingTarget {
  baseUrl: string;
  endpoint: Endpoint;
  model: string;
  temperature: number;
  /** vLLM's extension (tpserve accepts it): generate exactly max_tokens. */
  ignoreEos: boolean;
  timeoutMs: number;
  /** Structured output of every request (the OpenAI `response_format`), e.g. {type: "json_object"}. */
  responseFormat?: Record<string, unknown>;
}

interface StreamChunk {
  choices?: Array<{ text?: string; delta?: { content?: string | null; reasoning_content?: string | null; tool_calls?: unknown[] } }>;
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  error?: { message?: string };
}

/** `prompt`: text, or token ids (completions only, as the OpenAI API allows). */
function requestBody(t: ServingTarget, prompt: string | number[], maxTokens: number, isStream: boolean): Record<string, unknown> {
  return {
    model: t.model,
    ...(t.endpoint === 'chat' ? { messages: [{ role: 'user', content: prompt }] } : { prompt }),
    max_tokens: maxTokens,
    temperature: t.temperature,
    ...(t.ignoreEos ? { ignore_eos: true } : {}),
    ...(t.responseFormat ? { response_format: t.responseFormat } : {}),
    ...(isStream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
}

function post(t: ServingTarget, body: Record<string, unknown>, signal?: AbortSignal): Promise<Response> {
  return fetch(`${t.baseUrl}/v1/${t.endpoint === 'chat' ? 'chat/completions' : 'completions'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(t.timeoutMs)]) : AbortSignal.timeout(t.timeoutMs),
  });
}

/** Whether a chunk carries generated text (the chat role chunk and the usage chunk do not). */
function hasText(chunk: StreamChunk): boolean {
  const c = chunk.choices?.[0];
  if (c === undefined) return false;
  return Boolean(c.text || c.delta?.content || c.delta?.reasoning_content || (c.delta?.tool_calls?.length ?? 0) > 0);
}

/** Streams one request; never throws (a failure is a result with isSuccess false). */
/** Per-request extras: `onChunk` gets the arrival time of each text chunk; `signal` ends the stream early. */
export interface StreamOptions {
  onChunk?: (atMs: number) => void;
  signal?: AbortSignal;
}

export async function streamRequest(t: ServingTarget, prompt: string | number[], maxTokens: number, options: StreamOptions = {}): Promise<RequestResult> {
  const result: RequestResult = { isSuccess: false, inputTokens: 0, outputTokens: 0, ttftMs: 0, itlMs: [], e2eMs: 0, numChunks: 0 };
  const started = performance.now();
  let lastChunkAt = 0;
  let isDone = false;
  try {
    const res = await post(t, requestBody(t, prompt, maxTokens, true), options.signal);
    if (res.status !== 200 || res.body === null) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const bytes of res.body as AsyncIterable<Uint8Array>) {
      const now = performance.now(); // every event of this read arrived together
      buffered += decoder.decode(bytes, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const event = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        for (const line of event.split('\n')) {
          if (!line.startsWith('data:')) continue;
          const data = line.slice(5).trim();
          if (data === '[DONE]') {
            isDone = true;
            continue;
          }
          const chunk = JSON.parse(data) as StreamChunk;
          if (chunk.error) throw new Error(`stream error: ${chunk.error.message ?? JSON.stringify(chunk.error)}`);
          if (chunk.usage) {
            result.inputTokens = chunk.usage.prompt_tokens;
            result.outputTokens = chunk.usage.completion_tokens;
          }
          if (!hasText(chunk)) continue;
          if (result.numChunks === 0) result.ttftMs = now - started;
          else result.itlMs.push(now - lastChunkAt);
          lastChunkAt = now;
          result.numChunks++;
          options.onChunk?.(now);
        }
      }
    }
    if (!isDone) throw new Error('the stream ended without data: [DONE]');
    if (result.outputTokens === 0) result.outputTokens = result.numChunks; // no usage chunk
    result.e2eMs = performance.now() - started;
    result.isSuccess = true;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  }
  return result;
}

/** usage.prompt_tokens of `prompt` as the server tokenizes it (one non-streamed max_tokens=1 request). */
export async function countPromptTokens(t: ServingTarget, prompt: string): Promise<number> {
  const res = await post(t, requestBody({ ...t, ignoreEos: false }, prompt, 1, false));
  const body = (await res.json()) as { usage?: { prompt_tokens: number }; error?: { message: string } };
  if (res.status !== 200 || !body.usage) throw new Error(`counting prompt tokens failed (HTTP ${res.status}): ${body.error?.message ?? 'no usage'}`);
  return body.usage.prompt_tokens;
}

/** The first model id of GET /v1/models. */
export async function firstModel(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/v1/models`, { signal: AbortSignal.timeout(30_000) });
  if (res.status !== 200) throw new Error(`GET ${baseUrl}/v1/models answered HTTP ${res.status}`);
  const body = (await res.json()) as { data?: Array<{ id: string }> };
  const id = body.data?.[0]?.id;
  if (id === undefined) throw new Error(`GET ${baseUrl}/v1/models listed no model`);
  return id;
}

/** Prometheus text → sample name (with labels) → value; undefined when /metrics is absent. */
export async function scrapeMetrics(baseUrl: string): Promise<Map<string, number> | undefined> {
  try {
    const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
    if (res.status !== 200) return undefined;
    const out = new Map<string, number>();
    for (const line of (await res.text()).split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      const i = line.lastIndexOf(' ');
      out.set(line.slice(0, i), Number(line.slice(i + 1)));
    }
    return out;
  } catch {
    return undefined;
  }
}
