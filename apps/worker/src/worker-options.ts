// The options of one worker rank, shared by `tpserve worker` (a standalone rank, what a
// LeaderWorkerSet worker pod runs) and the spawned worker of a local group (main.ts).
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Device } from '../../../libs/native/src/types';
import { isLoopbackHost } from '../../../libs/worker-protocol/src/worker-address';
import { tlsFilesFrom, type TlsFiles } from '../../../libs/worker-protocol/src/worker-tls';

export interface WorkerOptionValues {
  host: string;
  port: number;
  device: Device;
  gpu?: number;
  advertiseHost?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  insecure?: boolean;
  exitWithParent?: boolean;
}

export interface WorkerConfig {
  host: string;
  port: number;
  device: Device;
  /** GPU index of this rank (overrides the coordinator's choice, the rank). */
  gpu?: number;
  /** The address other ranks and the coordinator reach this rank at. */
  advertiseHost: string;
  tls?: TlsFiles;
  exitWithParent: boolean;
}

function intIn(min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || n < min || n > max) throw new InvalidArgumentError(`must be an integer in [${min}, ${max}].`);
    return n;
  };
}

export function addWorkerOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--host <host>', 'address to bind (0.0.0.0: every interface)').env('TPSERVE_WORKER_HOST').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'port (0: any free port)').env('TPSERVE_WORKER_PORT').default(0).argParser(intIn(0, 65535)))
    .addOption(new Option('--device <device>', 'backend').choices(['cpu', 'cuda']).env('TPSERVE_DEVICE').default('cpu'))
    .addOption(new Option('--gpu <n>', 'GPU index of this rank (default: the rank)').env('TPSERVE_GPU').argParser(intIn(0, 1023)))
    .addOption(new Option('--advertise-host <host>', 'address the other ranks reach this one at').env('TPSERVE_ADVERTISE_HOST').default(undefined, '--host, else $POD_IP'))
    .addOption(new Option('--tls-cert <file>', 'this worker\'s certificate (PEM), for mutual TLS').env('TPSERVE_WORKER_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'this worker\'s private key (PEM)').env('TPSERVE_WORKER_TLS_KEY'))
    .addOption(new Option('--tls-ca <file>', 'CA of the coordinator\'s client certificate (PEM)').env('TPSERVE_WORKER_TLS_CA'))
    .addOption(new Option('--insecure', 'allow plaintext gRPC on a non-loopback address').env('TPSERVE_WORKER_INSECURE'))
    .addOption(new Option('--exit-with-parent', 'exit when stdin closes (the spawning process died)').hideHelp());
}

/** The checked config; throws a message naming the problem (plaintext off loopback, partial TLS). */
export function toWorkerConfig(v: WorkerOptionValues): WorkerConfig {
  const tls = tlsFilesFrom(v.tlsCert, v.tlsKey, v.tlsCa, '--tls');
  if (!tls && !v.insecure && !isLoopbackHost(v.host)) {
    throw new Error(
      `refusing plaintext gRPC on ${v.host}: give --tls-cert, --tls-key and --tls-ca (mutual TLS), or --insecure on a trusted network`,
    );
  }
  const wildcard = v.host === '0.0.0.0' || v.host === '::';
  const advertiseHost = v.advertiseHost || (wildcard ? process.env.POD_IP : v.host);
  if (!advertiseHost) throw new Error(`--host ${v.host} binds every interface: give --advertise-host (or POD_IP), the address other ranks reach`);
  return { host: v.host, port: v.port, device: v.device, gpu: v.gpu, advertiseHost, tls, exitWithParent: Boolean(v.exitWithParent) };
}
