// JSON text exactly as Python's json.dumps(..., ensure_ascii=False) writes it (separators ', ' and
// ': ', floats in repr form, ints of any size): vLLM puts that text in function.arguments, and
// clients and tests compare it byte for byte. Tested by param-converter.spec.ts.

/** A JSON string literal (same escapes as Python with ensure_ascii=False). */
export function jsonString(text: string): string {
  return JSON.stringify(text);
}

/** Python's repr of a finite float: shortest round-trip digits, exponent form outside 1e-4..1e16. */
export function pythonFloatRepr(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite float: ${value}`);
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const sign = value < 0 ? '-' : '';
  const [mantissa, exponentText] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expSign = exponent < 0 ? '-' : '+';
    return `${sign}${body}e${expSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const intPart = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fracPart = digits.slice(exponent + 1) || '0';
  return `${sign}${intPart}.${fracPart}`;
}

/** Canonical decimal text of an integer given as digits with optional sign / underscores / zeros. */
export function canonicalInteger(text: string): string {
  return BigInt(text.replace(/_/g, '')).toString();
}

/** Python's float(x) followed by vLLM's "int when integral": the JSON text of a `number` value. */
export function numberJson(value: number): string {
  return Number.isInteger(value) ? BigInt(value).toString() : pythonFloatRepr(value);
}
