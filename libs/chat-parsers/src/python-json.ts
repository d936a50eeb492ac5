// JSON text exactly as Python's json.dumps(..., ensure_ascii=False) writes it (separators ', ' and
// ': ', floats in repr form, ints of any size): vLLM puts that text in function.arguments, and
// clients and tests compare it byte for byte. Tested by param-converter.spec.ts.
import { floatRepr } from '../../chat-template/src/python-float-repr';

/** A JSON string literal (same escapes as Python with ensure_ascii=False). */
export function jsonString(text: string): string {
  return JSON.stringify(text);
}

/** Canonical decimal text of an integer given as digits with optional sign / underscores / zeros. */
export function canonicalInteger(text: string): string {
  return BigInt(text.replace(/_/g, '')).toString();
}

/** Python's float(x) followed by vLLM's "int when integral": the JSON text of a `number` value. */
export function numberJson(value: number): string {
  return Number.isInteger(value) ? BigInt(value).toString() : floatRepr(value);
}
