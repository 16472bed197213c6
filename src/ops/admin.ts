// The admin listener: /metrics, /healthz, /readyz, /watch and the status page on their own address, off the public port.
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { isLoopbackAddress } from '../address.js';
import { adminToken, type Env } from '../config/env.js';
import { readSettingFile } from '../config/read-file.js';
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
  /** Needed for the status page and /watch unless the listener is on loopback only. */
  readonly token: AdminToken;
  /**
   * Told, once, the sign-in URL of a generated token when the listener is not on loopback only:
   * the one way its owner learns it (as Jupyter prints its URL).
   */
  readonly announce?: (signInUrl: string) => void;
}

/** The admin token and whether it was generated for this run (none was set). */
export interface AdminToken {
  readonly value: string;
  readonly generated: boolean;
}

/** The one log line a generated token is announced with (its `url` field signs a browser in). */
export const ADMIN_TOKEN_GENERATED =
  'admin page: no ADMIN_TOKEN or ADMIN_TOKEN_FILE is set and the admin listener is not on loopback, so a token was generated for this run; open the url to sign in (through the port the admin listener is published on)';

/** A token is a line: a larger ADMIN_TOKEN_FILE is refused. */
const MAX_TOKEN_FILE_BYTES = 4096;

/**
 * ADMIN_TOKEN; else the content of ADMIN_TOKEN_FILE (a Docker or Kubernetes secret), trimmed and
 * held to ADMIN_TOKEN's rule; else a random token for this run. Throws naming the file.
 */
export function adminTokenOf(env: Pick<Env, 'ADMIN_TOKEN' | 'ADMIN_TOKEN_FILE'>): AdminToken {
  if (env.ADMIN_TOKEN !== undefined) return { value: env.ADMIN_TOKEN, generated: false };
  const file = env.ADMIN_TOKEN_FILE;
  if (file === undefined) return { value: randomBytes(24).toString('base64url'), generated: true };
  const parsed = adminToken.safeParse(
    readSettingFile('ADMIN_TOKEN_FILE', file, MAX_TOKEN_FILE_BYTES).trim(),
  );
  if (!parsed.success) {
    throw new Error(`ADMIN_TOKEN_FILE=${file}: the token in it ${parsed.error.issues[0]?.message}`);
  }
  return { value: parsed.data, generated: false };
}

/**
 * The URL that signs a browser in with `token`: the bound address, or the host's loopback for a
 * wildcard one (where a container's published admin port is reached).
 */
function signInUrl(address: { address: string; family: string; port: number }, token: string) {
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard
    ? '127.0.0.1'
    : address.family === 'IPv6'
      ? `[${address.address}]`
      : address.address;
  return `http://${host}:${address.port}/login?token=${encodeURIComponent(token)}`;
}

export async function buildAdminApp(options: AdminOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  // Whether the page and /watch need the token is decided on the addresses the listener is bound
  // to, once it listens (ADMIN_HOST is a name or an address: `localhost` binds 127.0.0.1 and ::1;
  // a name beginning `127.` may resolve anywhere). Until then, and on any address that is not
  // loopback, the token is needed.
  let loopbackOnly = false;
  let announced = false;
  app.addHook('onListen', (done) => {
    const bound = app.addresses();
    loopbackOnly =
      bound.length > 0 && bound.every((a) => typeof a !== 'string' && isLoopbackAddress(a.address));
    const first = bound[0];
    if (!loopbackOnly && options.token.generated && !announced && typeof first === 'object') {
      announced = true;
      options.announce?.(signInUrl(first, options.token.value));
    }
    done();
  });
  const { token } = options;
  const gate = adminGate({ token: token.value, needsToken: () => !loopbackOnly });
  if (options.status) statusRoutes(app, options.status.source, gate, token.value);
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
