// A streamed /v1/completions request read to its end over raw SSE (fetch), for the fault tests:
// the text, the finish reason, the usage, an error event if one came, and a hook on each
// chunk (to inject a fault once a stream is under way).
export interface StreamResult {
  status: number;
  text: string;
  finishReason: string | null;
  numCompletionTokens: number | undefined;
  error?: { code: string; message: string; type: string };
  numChunks: number;
}

export interface CompletionBody {
  model: string;
  prompt: string;
  max_tokens: number;
  temperature?: number;
  seed?: number;
}

export async function streamCompletion(baseUrl: string, body: CompletionBody, onChunk?: (numChunks: number) => void): Promise<StreamResult> {
  const res = await fetch(`${baseUrl}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ temperature: 0, ...body, ignore_eos: true, stream: true, stream_options: { include_usage: true } }),
  });
  const result: StreamResult = { status: res.status, text: '', finishReason: null, numCompletionTokens: undefined, numChunks: 0 };
  if (res.status !== 200) {
    result.error = ((await res.json()) as { error: StreamResult['error'] }).error;
    return result;
  }
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const data = JSON.parse(event.slice('data: '.length)) as {
        error?: StreamResult['error'];
        choices?: Array<{ text: string; finish_reason: string | null }>;
        usage?: { completion_tokens: number } | null;
      };
      if (data.error) result.error = data.error;
      for (const c of data.choices ?? []) {
        result.text += c.text;
        if (c.finish_reason) result.finishReason = c.finish_reason;
      }
      if (data.usage) result.numCompletionTokens = data.usage.completion_tokens;
      onChunk?.(++result.numChunks);
    }
  }
  return result;
}

/** Whether a process id is alive (signal 0 probes without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
