// The coordinator's HTTP server with its limits set on purpose: a client must send its headers
// within headerTimeoutMs and its whole request within bodyTimeoutMs (slow clients cannot pin
// sockets), idle keep-alive connections close after idleTimeoutMs, at most maxConnections are
// open, and transport errors are answered in OpenAI's shape. Nest runs on it through
// HardenedExpressAdapter. Tests: http-server.spec.ts.
import { createServer, type RequestListener, type Server } from 'node:http';
import { ExpressAdapter } from '@nestjs/platform-express';
import { answerTransportError } from './transport-error';

export interface HttpLimits {
  headerTimeoutMs: number;
  bodyTimeoutMs: number;
  idleTimeoutMs: number;
  /** 0: no cap. */
  maxConnections: number;
}

export function createHttpServer(handler: RequestListener, limits: HttpLimits): Server {
  const server = createServer(
    {
      // Node wants headersTimeout <= requestTimeout; deadlines are checked this often
      headersTimeout: Math.min(limits.headerTimeoutMs, limits.bodyTimeoutMs),
      requestTimeout: limits.bodyTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, limits.headerTimeoutMs),
    },
    handler,
  );
  server.keepAliveTimeout = limits.idleTimeoutMs;
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  server.on('clientError', answerTransportError);
  return server;
}

/** Nest's Express adapter on createHttpServer, without Express's X-Powered-By header. */
export class HardenedExpressAdapter extends ExpressAdapter {
  constructor(private readonly limits: HttpLimits) {
    super();
    this.getInstance().disable('x-powered-by');
  }

  override initHttpServer(): void {
    this.setHttpServer(createHttpServer(this.getInstance(), this.limits));
  }
}
