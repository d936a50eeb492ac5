// Which routes the auth guard leaves open, and how the bearer token is read and compared.
import { describe, expect, it } from 'vitest';
import { hashApiKey } from '../../../../libs/store/src/api-key-record';
import { bearerToken, isSameHash } from './bearer-token';
import { isOpenRoute } from './open-routes';

describe('isOpenRoute', () => {
  it('leaves the probes open always and /metrics unless --metrics-auth', () => {
    for (const path of ['/health', '/ready', '/health/', '/ready?x=1']) expect(isOpenRoute(path, true)).toBe(true);
    expect(isOpenRoute('/metrics', false)).toBe(true);
    expect(isOpenRoute('/metrics', true)).toBe(false);
  });

  it('closes every other route, also ones added later', () => {
    for (const path of ['/v1/chat/completions', '/v1/models', '/tokenize', '/detokenize', '/v1/anything-new', '/healthz', '/']) {
      expect(isOpenRoute(path, false)).toBe(false);
    }
  });
});

describe('bearer tokens', () => {
  it('reads Authorization: Bearer KEY only', () => {
    expect(bearerToken({ authorization: 'Bearer tps-abc' })).toBe('tps-abc');
    expect(bearerToken({ authorization: 'bearer  tps-abc ' })).toBe('tps-abc');
    expect(bearerToken({ authorization: 'Basic dXNlcjpw' })).toBeUndefined();
    expect(bearerToken({})).toBeUndefined();
  });

  it('compares hashes in full', () => {
    const h = hashApiKey('tps-abc');
    expect(isSameHash(h, hashApiKey('tps-abc'))).toBe(true);
    expect(isSameHash(h, hashApiKey('tps-abd'))).toBe(false);
    expect(isSameHash(h, h.slice(0, 10))).toBe(false);
    expect(isSameHash('', '')).toBe(false);
  });
});
