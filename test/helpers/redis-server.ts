// A real redis-server for tests (Debian's, installed by scripts/system-packages.mjs): started on
// a free 127.0.0.1 port with no persistence, ready once it answers PING, ended by its pid.
// `restart()` brings it back on the same port (the Redis-outage tests).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export interface RedisServer {
  port: number;
  url: string;
  /** SIGKILLs the server (an outage); `restart` starts it again on the same port. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      client.disconnect();
    }
  }
}

/** `dataDir`: keep an append-only file there, fsynced per write (survives a SIGKILL). */
function spawnRedis(port: number, dataDir?: string): ChildProcess {
  const persistence = dataDir ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dataDir] : ['--appendonly', 'no'];
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--protected-mode', 'yes'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.on('error', () => undefined);
  return child;
}

function endByPid(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, signal);
  return exited;
}

export async function startRedisServer(options: { dataDir?: string; timeoutMs?: number } = {}): Promise<RedisServer> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const port = await freePort();
  let child = spawnRedis(port, options.dataDir);
  await waitForPing(port, timeoutMs);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: () => endByPid(child, 'SIGKILL'),
    restart: async () => {
      await endByPid(child, 'SIGKILL');
      child = spawnRedis(port, options.dataDir);
      await waitForPing(port, timeoutMs);
    },
    stop: () => endByPid(child, 'SIGTERM'),
  };
}
