// /tokenize and /detokenize bodies: vLLM's defaults per form, and a precise 400 for bad input.
import { describe, expect, it } from 'vitest';
import { errorOf } from '../test/error-of';
import { validateDetokenizeRequest, validateTokenizeRequest } from './tokenize-request.validator';

describe('validateTokenizeRequest', () => {
  it('prompt form: special tokens on by default; chat form: off, generation prompt on', () => {
    expect(validateTokenizeRequest({ prompt: 'hi' })).toEqual({ kind: 'prompt', model: undefined, prompt: 'hi', addSpecialTokens: true, returnTokenStrs: false });
    expect(validateTokenizeRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }], return_token_strs: true })).toMatchObject({
      kind: 'chat', model: 'm', addSpecialTokens: false, addGenerationPrompt: true, returnTokenStrs: true, tools: null, chatTemplateKwargs: null,
    });
  });

  it.each([
    ['neither prompt nor messages', {}, 'prompt', 'missing_required_parameter'],
    ['both', { prompt: 'a', messages: [{ role: 'user', content: 'b' }] }, 'prompt', 'invalid_value'],
    ['prompt as number', { prompt: 3 }, 'prompt', 'invalid_type'],
    ['bad message', { messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role', 'invalid_value'],
    ['add_special_tokens as string', { prompt: 'a', add_special_tokens: 'yes' }, 'add_special_tokens', 'invalid_type'],
  ])('%s → 400', (_name, body, param, code) => {
    expect(errorOf(() => validateTokenizeRequest(body)).toBody().error).toMatchObject({ type: 'invalid_request_error', param, code });
  });
});

describe('validateDetokenizeRequest', () => {
  it('reads the token ids', () => expect(validateDetokenizeRequest({ tokens: [0, 5] }, { vocabSize: 10 }).tokens).toEqual([0, 5]));

  it.each([
    ['no tokens', {}, 'missing_required_parameter'],
    ['tokens not an array', { tokens: 'ab' }, 'invalid_type'],
    ['an id outside the vocabulary', { tokens: [1, 10] }, 'invalid_value'],
    ['a negative id', { tokens: [-1] }, 'invalid_value'],
  ])('%s → 400', (_name, body, code) => {
    expect(errorOf(() => validateDetokenizeRequest(body, { vocabSize: 10 })).toBody().error).toMatchObject({ param: 'tokens', code });
  });
});
