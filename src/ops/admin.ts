// The admin listener: /metrics, /healthz, /readyz, /watch and the status page on their own address, off the public port.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';
import { type StatusOptions, type StatusSource, statusRoutes } from './status.js';

export interface AdminOptions {
  readonly metrics: Metrics;
  /**
   * Whether the service takes new requests: false while it drains. A refused reload changes
   * nothing (the last good config serves).
   */
  readonly ready: () => boolean;
  /**
   * The status page (GET / and /status), and whether it needs ADMIN_TOKEN; its source's `watch`
   * also answers GET /watch (404 when the watcher is off).
   */
  readonly status?: { readonly source: StatusSource; readonly options: StatusOptions };
}

export async function buildAdminApp(options: AdminOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  if (options.status) statusRoutes(app, options.status.source, options.status.options);
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', options.metrics.registry.contentType);
    reply.header('cache-control', 'no-store');
    return options.metrics.registry.metrics();
  });
  app.get('/watch', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    const watch = options.status?.source.watch;
    if (watch === undefined) {
      reply.code(404);
      return { status: 'off', message: 'the watcher is off; set WATCH_INTERVAL' };
    }
    return watch();
  });
  app.get('/healthz', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });
  app.get('/readyz', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    const ready = options.ready();
    reply.code(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not_ready' };
  });
  return app;
}
