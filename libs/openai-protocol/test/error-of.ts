// Test helper for the validator specs: the OpenAiError a call throws (fails when it throws none).
import { OpenAiError } from '../src/openai-error';

export function errorOf(fn: () => unknown): OpenAiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof OpenAiError) return err;
    throw err;
  }
  throw new Error('expected an OpenAiError');
}
