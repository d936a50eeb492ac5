// A throwaway CA, a worker (server) certificate for the given IP addresses and a coordinator
// (client) certificate, made with the openssl CLI in a temporary directory, for the mutual-TLS
// tests. Returns undefined when openssl is missing (the caller skips with that reason).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TestCerts {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

function issue(dir: string, name: string, subject: string, extensions: string): void {
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
  fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`], dir);
}

export function makeTestCerts(dir: string, serverIps: string[]): TestCerts | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  fs.mkdirSync(dir, { recursive: true });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-subj', '/CN=tpserve test CA', '-days', '2', '-out', 'ca.pem'], dir);
  const sans = ['DNS:localhost', 'IP:127.0.0.1', ...serverIps.map((ip) => `IP:${ip}`)].join(',');
  issue(dir, 'worker', '/CN=tpserve-worker', `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\n`);
  issue(dir, 'coordinator', '/CN=tpserve-coordinator', 'extendedKeyUsage=clientAuth\n');
  const p = (f: string): string => path.join(dir, f);
  return { dir, ca: p('ca.pem'), serverCert: p('worker.pem'), serverKey: p('worker.key'), clientCert: p('coordinator.pem'), clientKey: p('coordinator.key') };
}
