import { describe, expect, it } from 'vitest';
import { clientSafeMessage } from './client-message';
import { OpenAiError } from './openai-error';

describe('clientSafeMessage', () => {
  it('drops worker pids and absolute paths, keeps the rest', () => {
    expect(clientSafeMessage('worker rank 1 (pid 4242) exited unexpectedly (code null, signal SIGKILL)')).toBe('worker rank 1 exited unexpectedly (code null, signal SIGKILL)');
    expect(clientSafeMessage('cannot open /srv/models/Seed-OSS-36B/model-00001.safetensors: ENOENT')).toBe('cannot open <path>: ENOENT');
    expect(clientSafeMessage('see https://example.com/a/b for details')).toBe('see https://example.com/a/b for details');
    expect(clientSafeMessage('a/b relative and 3/4 stay')).toBe('a/b relative and 3/4 stay');
  });

  it('applies to the body of server errors only', () => {
    expect(new OpenAiError(503, 'rank 0 (pid 7) at /opt/x/y failed').toBody().error.message).toBe('rank 0 at <path> failed');
    expect(new OpenAiError(400, 'bad /a/b').toBody().error.message).toBe('bad /a/b');
  });
});
