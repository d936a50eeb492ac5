// Stop strings over streamed text: found however the text is split, never leaked, and a held
// back stop prefix is released once it stops matching. Property tests over split points.
import { describe, expect, it } from 'vitest';
import { StopStringMatcher } from './stop-string-matcher';

/** Reference: feed one character at a time; the first stop to complete wins (longer on ties). */
function reference(text: string, stops: string[]): { text: string; stop?: string } {
  for (let end = 1; end <= text.length; end++) {
    const done = stops.filter((s) => s.length > 0 && text.slice(0, end).endsWith(s)).sort((a, b) => b.length - a.length);
    if (done.length > 0) return { text: text.slice(0, end - done[0].length), stop: done[0] };
  }
  return { text };
}

function stream(chunks: string[], stops: string[], includeStop = false): { text: string; stop?: string; pieces: string[] } {
  const matcher = new StopStringMatcher(stops, includeStop);
  const pieces: string[] = [];
  for (const chunk of chunks) {
    const { text, stop } = matcher.push(chunk);
    pieces.push(text);
    if (stop !== undefined) {
      expect(matcher.push('more text')).toEqual({ text: '', stop });
      return { text: pieces.join(''), stop, pieces };
    }
  }
  pieces.push(matcher.flush());
  return { text: pieces.join(''), pieces };
}

function splitAt(text: string, points: number[]): string[] {
  const bounds = [0, ...points, text.length];
  return bounds.slice(1).map((end, i) => text.slice(bounds[i], end));
}

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('StopStringMatcher', () => {
  const text = 'The answer is 42.</seed:think>ignored tail </end>';
  const stops = ['</seed:think>', '</end>'];

  it('finds a stop split across two chunks at every split point, never leaking it', () => {
    for (let i = 0; i <= text.length; i++) {
      const out = stream(splitAt(text, [i]), stops);
      expect(out).toMatchObject({ text: 'The answer is 42.', stop: '</seed:think>' });
    }
  });

  it('finds a stop split across three chunks at every pair of split points', () => {
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j++) {
        const out = stream(splitAt(text, [i, j]), stops);
        expect(out.text).toBe('The answer is 42.');
        expect(out.stop).toBe('</seed:think>');
      }
    }
  });

  it('matches the one-character-at-a-time reference on random texts, stops and chunkings', () => {
    const random = mulberry32(42);
    const alphabet = ['a', 'b', '<', '/', '>', 'é', '😀'];
    for (let round = 0; round < 2000; round++) {
      const pick = (n: number): string => Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      const t = pick(1 + Math.floor(random() * 14));
      const s = Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(1 + Math.floor(random() * 3)));
      const points = Array.from({ length: Math.floor(random() * 4) }, () => Math.floor(random() * (t.length + 1))).sort((x, y) => x - y);
      const expected = reference(t, s);
      const out = stream(splitAt(t, points), s);
      expect({ text: out.text, stop: out.stop }).toEqual(expected);
    }
  });

  it('holds back a possible stop prefix and releases it when it does not match', () => {
    const matcher = new StopStringMatcher(['</end>']);
    expect(matcher.push('value </e')).toEqual({ text: 'value ' });
    expect(matcher.numHeldChars).toBe(3);
    expect(matcher.push('n')).toEqual({ text: '' });
    expect(matcher.push('try')).toEqual({ text: '</entry' });
    expect(matcher.push('<')).toEqual({ text: '' });
    expect(matcher.flush()).toBe('<');
    expect(matcher.isStopped).toBe(false);
  });

  it('handles a stop at the very start, overlapping stops and includeStopInOutput', () => {
    expect(stream(['</end>rest'], ['</end>'])).toMatchObject({ text: '', stop: '</end>' });
    expect(stream(['ab', 'cd'], ['abcd', 'bc'])).toMatchObject({ text: 'a', stop: 'bc' });
    expect(stream(['xaab'], ['aab', 'ab'])).toMatchObject({ text: 'x', stop: 'aab' });
    expect(stream(['say STO', 'P now'], ['STOP'], true)).toMatchObject({ text: 'say STOP', stop: 'STOP' });
    expect(stream(['no stops ', 'here'], []).text).toBe('no stops here');
    expect(stream(['no stops ', 'here'], []).stop).toBeUndefined();
    expect(stream(['a', 'b'], [''])).toMatchObject({ text: 'ab' });
  });
});
