// Mutual TLS between the coordinator and its worker ranks: certificates from PEM files (e.g. a
// Kubernetes Secret mounted as a volume). The worker requires a client certificate signed by
// its CA; the coordinator checks the worker's certificate against the same CA. Plaintext is
// allowed only on loopback or with an explicit insecure flag (checked by the callers).
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';

export interface TlsFiles {
  /** This side's certificate chain (PEM). */
  certFile: string;
  /** This side's private key (PEM). */
  keyFile: string;
  /** The CA that signed the other side's certificate (PEM). */
  caFile: string;
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read the TLS ${what} '${file}': ${(err as Error).message}`);
  }
}

/** The worker's server credentials: its certificate, and client certificates required. */
export function serverCredentials(tls: TlsFiles): grpc.ServerCredentials {
  const ca = readPem(tls.caFile, 'CA');
  const pair = { cert_chain: readPem(tls.certFile, 'certificate'), private_key: readPem(tls.keyFile, 'key') };
  return grpc.ServerCredentials.createSsl(ca, [pair], true);
}

/** The coordinator's channel credentials: the CA of the workers and its client certificate. */
export function channelCredentials(tls: TlsFiles): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(readPem(tls.caFile, 'CA'), readPem(tls.keyFile, 'key'), readPem(tls.certFile, 'certificate'));
}

/**
 * The TLS files from three optional values: all three or none (undefined); a partial set is an
 * error naming what is missing. `flag` prefixes the names in the message (e.g. "--worker-tls").
 */
export function tlsFilesFrom(cert: string | undefined, key: string | undefined, ca: string | undefined, flag: string): TlsFiles | undefined {
  if (!cert && !key && !ca) return undefined;
  const missing = [!cert && `${flag}-cert`, !key && `${flag}-key`, !ca && `${flag}-ca`].filter(Boolean);
  if (missing.length > 0) throw new Error(`mutual TLS needs a certificate, a key and a CA: ${missing.join(', ')} missing`);
  return { certFile: cert!, keyFile: key!, caFile: ca! };
}
