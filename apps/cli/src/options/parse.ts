// Parsers for CLI option values: each names the option and the bad value in its error.
export function parseIntOption(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new Error(`${name} must be an integer in [${min}, ${max}], got '${value}'`);
    }
    return n;
  };
}

export function parseFloatOption(name: string, min = -Infinity, max = Infinity): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new Error(`${name} must be a number in [${min}, ${max}], got '${value}'`);
    }
    return n;
  };
}

/** "5,17,300" → [5, 17, 300]; refuses anything that is not a list of non-negative integers. */
export function parseTokenList(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw new Error('--tokens needs at least one token id, e.g. --tokens 5,17,300');
  return parts.map((p) => {
    if (!/^\d+$/.test(p) || !Number.isSafeInteger(Number(p))) {
      throw new Error(`--tokens: '${p}' is not a token id (non-negative integer)`);
    }
    return Number(p);
  });
}
