// Worker address lists and the loopback rule (plaintext gRPC allowed only there by default).
import { describe, expect, it } from 'vitest';
import { isLoopbackHost, parseWorkerAddress, parseWorkerAddresses } from './worker-address';

describe('worker addresses', () => {
  it('parses host:port, [v6]:port and lists in rank order', () => {
    expect(parseWorkerAddress('10.0.0.2:50051')).toEqual({ host: '10.0.0.2', port: 50051 });
    expect(parseWorkerAddress('[fd00::2]:7')).toEqual({ host: 'fd00::2', port: 7 });
    expect(parseWorkerAddress('tpserve-0-1.tpserve:50051')).toEqual({ host: 'tpserve-0-1.tpserve', port: 50051 });
    expect(parseWorkerAddresses(' b:2, a:1 ,')).toEqual(['b:2', 'a:1']);
  });

  it('names the bad entry', () => {
    expect(() => parseWorkerAddress('h:0')).toThrow("worker address 'h:0' is not host:port");
    expect(() => parseWorkerAddress('h:70000')).toThrow(/port 1-65535/);
    expect(() => parseWorkerAddress('fd00::2:7')).toThrow(/IPv6 as \[addr\]:port/);
    expect(() => parseWorkerAddresses(',')).toThrow('the worker list is empty');
    expect(() => parseWorkerAddresses('a:1,a:1')).toThrow("worker address 'a:1' appears twice");
  });

  it('derives the ranks of a LeaderWorkerSet group from its pod variables', () => {
    const env = { LWS_LEADER_ADDRESS: 'tpserve-0.tpserve.serving', LWS_GROUP_SIZE: '3' };
    expect(parseWorkerAddresses('lws', env)).toEqual(['127.0.0.1:50051', 'tpserve-0-1.tpserve.serving:50051', 'tpserve-0-2.tpserve.serving:50051']);
    expect(parseWorkerAddresses('lws:7000', { LWS_LEADER_ADDRESS: 'a-2.a.ns.svc.cluster.local', LWS_GROUP_SIZE: '2' })).toEqual(['127.0.0.1:7000', 'a-2-1.a.ns.svc.cluster.local:7000']);
    expect(() => parseWorkerAddresses('lws', {})).toThrow('--workers lws needs LWS_LEADER_ADDRESS and LWS_GROUP_SIZE');
  });

  it('counts only loopback as loopback', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['10.0.0.2', '0.0.0.0', '128.0.0.1', 'example.com', '::']) expect(isLoopbackHost(h)).toBe(false);
  });
});
