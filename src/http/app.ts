// The app factory: a validated config in, a Fastify instance out. It never listens (see server.ts).
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { compileConfig } from '../config/compile.js';
import type { Config } from '../config/load.js';
import { userFingerprinter } from './logger.js';
import { fixedResponses, sendPrepared } from './responses.js';
import { discoveryRoutes } from './routes/discovery.js';
import { healthRoutes } from './routes/health.js';
import { securityHeaders } from './security-headers.js';

export interface AppOptions {
  readonly config: Config;
  /** A pino logger (see createLogger); none means silent, as in tests. */
  readonly logger?: FastifyBaseLogger;
  /** Key for the hash that stands in for user-identifier in logs. */
  readonly logHashKey?: string;
  /** Serve HTTPS directly (PEM key and certificate chain); plain HTTP behind a proxy when absent. */
  readonly https?: { readonly key: string; readonly cert: string };
}

const NO_QUERY = Object.freeze({});

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const headers = securityHeaders();
  const state = { table: compileConfig(options.config, headers) };
  const fixed = fixedResponses(headers);

  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // Apple devices need TLS 1.2 or newer (https://support.apple.com/en-us/126655).
    ...(options.https ? { https: { ...options.https, minVersion: 'TLSv1.2' as const } } : {}),
    // One line per discovery request, written by the route; Fastify's two lines would log URLs.
    logController: new LogController({ disableRequestLogging: true }),
    // A client's X-Request-Id is not trusted into logs.
    requestIdHeader: false,
    // Slow clients cannot hold a connection: headers and the whole request within 10 s.
    requestTimeout: 10_000,
    keepAliveTimeout: 5_000,
    connectionTimeout: 30_000,
    http: { headersTimeout: 10_000 },
    routerOptions: {
      // The discovery route reads its two parameters itself (discovery/query.ts); nothing else
      // takes a query, so Fastify is spared parsing one on every request.
      querystringParser: () => NO_QUERY,
    },
    // A path with invalid percent-encoding and the like: a plain 400 that echoes nothing.
    frameworkErrors: (_error, _request, reply) => {
      sendPrepared(reply, fixed.badRequest);
    },
  }) as unknown as FastifyInstance;

  app.setNotFoundHandler((_request, reply) => sendPrepared(reply, fixed.notFound));
  app.setErrorHandler((error: { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      request.log.info({ status, code: error.code }, 'request refused');
      return sendPrepared(reply, fixed.clientError(status));
    }
    // A 5xx never shows internals to the client; the log has them (addresses scrubbed).
    request.log.error({ err: error }, 'request failed');
    return sendPrepared(reply, fixed.internal);
  });

  await app.register(discoveryRoutes, {
    state,
    fixed,
    fingerprint: userFingerprinter(options.logHashKey),
  });
  await app.register(healthRoutes, { ready: () => state.table !== undefined });
  return app;
}
