// Worker options: plaintext only on loopback or with --insecure, TLS files all or none, the
// advertised address when binding every interface.
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addWorkerOptions, toWorkerConfig, type WorkerOptionValues } from './worker-options';

function parse(argv: string[]): ReturnType<typeof toWorkerConfig> {
  const values = addWorkerOptions(new Command('worker')).exitOverride().parse(argv, { from: 'user' }).opts<WorkerOptionValues>();
  return toWorkerConfig(values);
}

afterEach(() => vi.unstubAllEnvs());

describe('worker options', () => {
  it('defaults to plaintext on loopback', () => {
    expect(parse([])).toMatchObject({ host: '127.0.0.1', port: 0, device: 'cpu', advertiseHost: '127.0.0.1', tls: undefined });
  });

  it('refuses plaintext off loopback unless --insecure', () => {
    expect(() => parse(['--host', '10.0.0.2'])).toThrow('refusing plaintext gRPC on 10.0.0.2: give --tls-cert, --tls-key and --tls-ca');
    expect(parse(['--host', '10.0.0.2', '--insecure', '--port', '50051', '--gpu', '3'])).toMatchObject({ advertiseHost: '10.0.0.2', port: 50051, gpu: 3 });
    const tls = parse(['--host', '10.0.0.2', '--tls-cert', 'c', '--tls-key', 'k', '--tls-ca', 'a']).tls;
    expect(tls).toEqual({ certFile: 'c', keyFile: 'k', caFile: 'a' });
    expect(() => parse(['--host', '10.0.0.2', '--tls-cert', 'c'])).toThrow('--tls-key, --tls-ca missing');
  });

  it('advertises --advertise-host or $POD_IP when binding every interface', () => {
    vi.stubEnv('POD_IP', '');
    expect(() => parse(['--host', '0.0.0.0', '--insecure'])).toThrow(/give --advertise-host/);
    expect(parse(['--host', '0.0.0.0', '--insecure', '--advertise-host', 'w-1.svc']).advertiseHost).toBe('w-1.svc');
    vi.stubEnv('POD_IP', '10.1.2.3');
    expect(parse(['--host', '0.0.0.0', '--insecure']).advertiseHost).toBe('10.1.2.3');
  });
});
