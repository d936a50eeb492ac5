// Starts a coordinator: loads the model runtime (tokenizer, template, worker group), then the
// Nest HTTP app on config.host:config.port, and prints one JSON line
// {"event":"listening","host","port","model"} on stdout (so tests can use --port 0).
// SIGINT / SIGTERM drain first: /ready turns 503 and new requests get 503 shutting_down at
// once, running and queued requests finish (up to --drain-timeout-ms, then the rest end with
// an error), then the HTTP server closes, then the workers stop and the process exits 0. A
// second signal skips the rest of the drain. Used by `tpserve serve` and `tpserve start`.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication, LogLevel } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { ServerConfig } from './config/server-config';
import { openStore } from '../../../libs/store/src/open-store';
import { RedisStore } from '../../../libs/store/src/redis-store';
import { AppModule } from './app.module';
import { EngineLoopService } from './engine/engine-loop.service';
import { ModelRuntime } from './engine/model-runtime';
import { installHttpPipeline } from './http/http-pipeline';
import { HardenedExpressAdapter } from './http/http-server';

export interface RunningCoordinator {
  app: INestApplication;
  port: number;
  /** Lets running and queued requests finish (refusing new ones) for up to `timeoutMs`; resolves with how many were left. */
  drain(timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

const LOG_LEVELS: LogLevel[] = ['error', 'warn'];

export async function startCoordinator(config: ServerConfig, log: (line: string) => void): Promise<RunningCoordinator> {
  const runtime = await ModelRuntime.load(config, log);
  const store = openStore(config.redisUrl, log);
  // Redis down at start is not fatal: requests that need it get 503 until it answers
  if (store instanceof RedisStore && !(await store.waitUntilReady(3000))) log('redis: not reachable yet; serving, with 503 store_unavailable until it is');
  let app: INestApplication;
  try {
    const adapter = new HardenedExpressAdapter({
      headerTimeoutMs: config.httpHeaderTimeoutMs, bodyTimeoutMs: config.httpBodyTimeoutMs, idleTimeoutMs: config.httpIdleTimeoutMs, maxConnections: config.maxConnections,
    });
    app = await NestFactory.create(AppModule.register(runtime, store), adapter, { bodyParser: false, logger: LOG_LEVELS, abortOnError: false });
    installHttpPipeline(app, config.maxBodyBytes);
    await app.listen(config.port, config.host);
  } catch (err) {
    await runtime.close();
    await store.close();
    throw err;
  }
  const server = app.getHttpServer() as Server;
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      // idle keep-alive sockets would hold server.close(); streams still open get 5 s
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 5000);
      await app.close();
      clearTimeout(force);
      await runtime.close();
      await store.close();
    })());
  const drain = (timeoutMs: number): Promise<number> => app.get(EngineLoopService).drain(timeoutMs);
  return { app, port, drain, close };
}

/** Runs until SIGINT / SIGTERM; the process exits non-zero when the start fails. */
export async function serveForever(config: ServerConfig): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`tpserve: ${line}\n`);
  const running = await startCoordinator(config, log);
  process.stdout.write(JSON.stringify({ event: 'listening', host: config.host, port: running.port, model: config.servedModelName }) + '\n');
  log(`serving '${config.servedModelName}' on http://${config.host}:${running.port}/v1 (tp ${config.tp}, ${config.device}${config.batchInvariant ? ', batch-invariant' : ''})`);
  await new Promise<void>((resolve) => {
    let numSignals = 0;
    const stop = (signal: string): void => {
      if (++numSignals > 1) {
        log(`${signal} again: ending the drain now`);
        void running.close().finally(resolve);
        return;
      }
      log(`${signal}: draining (up to ${config.drainTimeoutMs} ms), then shutting down`);
      void running
        .drain(config.drainTimeoutMs)
        .then((left) => log(left === 0 ? 'drained: every request finished' : `drain timeout: ${left} request(s) end with shutting_down`))
        .then(() => running.close())
        .finally(resolve);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  log('shut down');
}
