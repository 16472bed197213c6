// The admin listener: /metrics, /healthz, /readyz, /watch and the status page on their own address, off the public port.
import Fastify, { type FastifyInstance } from 'fastify';
import { isLoopbackAddress } from '../address.js';
import type { Metrics } from './metrics.js';
import { adminGate, type StatusSource, statusRoutes } from './status.js';

export interface AdminOptions {
  readonly metrics: Metrics;
  /**
   * Whether the service takes new requests: false while it drains. A refused reload changes
   * nothing (the last good config serves).
   */
  readonly ready: () => boolean;
  /**
   * The status page (GET / and /status); its source's `watch` also answers GET /watch (404 when
   * the watcher is off).
   */
  readonly status?: { readonly source: StatusSource };
  /** ADMIN_TOKEN: needed for the status page and /watch unless the listener is on loopback only. */
  readonly token?: string | undefined;
}

export async function buildAdminApp(options: AdminOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  // Whether the page and /watch need the token is decided on the addresses the listener is bound
  // to, once it listens (ADMIN_HOST is a name or an address: `localhost` binds 127.0.0.1 and ::1;
  // a name beginning `127.` may resolve anywhere). Until then, and on any address that is not
  // loopback, the token is needed.
  let loopbackOnly = false;
  app.addHook('onListen', (done) => {
    const bound = app.addresses();
    loopbackOnly =
      bound.length > 0 && bound.every((a) => typeof a !== 'string' && isLoopbackAddress(a.address));
    done();
  });
  const gate = adminGate({ token: options.token, needsToken: () => !loopbackOnly });
  if (options.status) statusRoutes(app, options.status.source, gate, options.token);
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', options.metrics.registry.contentType);
    reply.header('cache-control', 'no-store');
    return options.metrics.registry.metrics();
  });
  app.get('/watch', { onRequest: gate.api }, async (_request, reply) => {
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
