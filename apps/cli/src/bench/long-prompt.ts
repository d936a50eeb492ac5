// A text prompt of exactly N tokens for a given tokenizer (the admission benchmarks): words
// `w0 w1 ...` (a BPE splits at spaces, so the count grows with the words), the most words that
// stay within N found by bisection, then one-token pieces appended until the count is N. `count`
// is the tokenizer: local (Tokenizer.encode) or the server's POST /tokenize (countWithServer).

const word = (i: number): string => `w${i % 997}`;
const words = (n: number): string => Array.from({ length: n }, (_, i) => word(i)).join(' ');
/** Appended one at a time to close the last few tokens; each must add exactly one. */
const PADS = [' a', ' .', ' x', ',', '.'];

export async function promptOfTokens(count: (text: string) => Promise<number>, numTokens: number): Promise<string> {
  let lo = 0; // words(lo) has <= numTokens tokens
  let hi = numTokens + 1; // more words than that cannot fit (each word is at least one token)
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((await count(words(mid))) <= numTokens) lo = mid;
    else hi = mid;
  }
  let text = words(lo);
  let n = await count(text);
  while (n < numTokens) {
    let grown = false;
    for (const pad of PADS) {
      const m = await count(text + pad);
      if (m === n + 1) {
        [text, n, grown] = [text + pad, m, true];
        break;
      }
    }
    if (!grown) throw new Error(`cannot make a prompt of exactly ${numTokens} tokens with this tokenizer (stuck at ${n})`);
  }
  return text;
}

/** The server's token count of a completions prompt (POST /tokenize, no special tokens, as /v1/completions encodes). */
export function countWithServer(baseUrl: string, model: string): (text: string) => Promise<number> {
  return async (prompt) => {
    const res = await fetch(`${baseUrl}/tokenize`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, prompt, add_special_tokens: false }),
      signal: AbortSignal.timeout(120_000),
    });
    const body = (await res.json()) as { count?: number; error?: { message?: string } };
    if (res.status !== 200 || body.count === undefined) throw new Error(`POST /tokenize answered HTTP ${res.status}: ${body.error?.message ?? 'no count'}`);
    return body.count;
  };
}
