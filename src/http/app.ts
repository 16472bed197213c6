// The app factory: a validated config in, a Fastify instance out. It never listens (see server.ts).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  createServer as createSecureServer,
  type ServerOptions as HttpsServerOptions,
} from 'node:https';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
  type onRequestHookHandler,
} from 'fastify';
import { compileConfig, type TableBuilder, tableBuilder } from '../config/compile.js';
import { LIMIT_DEFAULTS } from '../config/env.js';
import type { Config } from '../config/load.js';
import type { Decision } from '../discovery/decide.js';
import type { PreparedResponse } from '../discovery/response.js';
import type { RoutingTable } from '../discovery/table.js';
import type { Metrics } from '../ops/metrics.js';
import { accessLog, requestIds } from './access-log.js';
import { type Admission, admission } from './admission.js';
import { type Connections, trackConnections } from './connections.js';
import { hotPath } from './hot-path.js';
import { userFingerprinter } from './logger.js';
import { type AnswerWriter, publicWrite } from './prepared-write.js';
import { MAX_CLIENTS } from './rate-limit.js';
import { type FixedResponses, fixedResponses, sendPrepared } from './responses.js';
import { discoveryRoutes } from './routes/discovery.js';
import { healthRoutes } from './routes/health.js';
import { securityHeaders } from './security-headers.js';
import { TLS_SETTINGS } from './tls.js';
import { clientAddressOf, requestHostOf, type TrustProxy, trustFunction } from './trust.js';

export interface AppOptions {
  readonly config: Config;
  /** A pino logger (see createLogger); none means silent, as in tests. */
  readonly logger?: FastifyBaseLogger;
  /** Key for the hash that stands in for user-identifier in logs. */
  readonly logHashKey?: string;
  /** Serve HTTPS directly (PEM key and certificate chain); plain HTTP behind a proxy when absent. */
  readonly https?: { readonly key: string; readonly cert: string };
  /** Which peers' X-Forwarded-* headers to believe: false, a hop count, or addresses/CIDRs. */
  readonly trustProxy?: TrustProxy;
  readonly limits?: Partial<Limits>;
  /** Counts every discovery request; none in most tests. */
  readonly metrics?: Metrics;
  /**
   * How discovery answers are written: `publicWrite` (Node's `writeHead`) unless server.ts has
   * checked at start that prepared headers give the same bytes on this Node (http/prepared-write.ts).
   */
  readonly writer?: AnswerWriter;
}

export interface Limits {
  /** Whole request (headers and body) must arrive within this time. */
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  /** An idle kept-alive connection is closed after this time. */
  readonly keepAliveTimeoutMs: number;
  /** Longer request targets get 414. */
  readonly maxUrlLength: number;
  /** Requests per client address per minute; 0 turns the limit off. */
  readonly rateLimitPerMinute: number;
  /** Clients the limit counts one by one per minute; the rest are estimated (http/rate-limit.ts). */
  readonly rateLimitClients: number;
  /** IPv6 clients are counted by this many leading bits of their address. */
  readonly rateLimitIpv6Prefix: number;
}

export const DEFAULT_LIMITS: Limits = { ...LIMIT_DEFAULTS, rateLimitClients: MAX_CLIENTS };

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Swaps a validated config in at once (compiled here, or `table` when it was compiled from it
     * already); requests in flight keep the old one.
     */
    replaceConfig(config: Config, table?: RoutingTable): void;
    /** Compiles a config tenant by tenant with this app's headers (for config/reload.ts). */
    tableBuilder(userLists: Config['userLists']): TableBuilder;
    /** The routing table being served (the status page reads it; nothing is compiled twice). */
    routingTable(): RoutingTable;
  }
}

const NO_QUERY = Object.freeze({});

/** Sends one of the service's fixed answers and counts it under `outcome`. */
type Refuse = (
  reply: FastifyReply,
  response: PreparedResponse,
  outcome: string,
  extraHeaders?: Readonly<Record<string, string>>,
) => FastifyReply;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const headers = securityHeaders();
  const state = { table: compileConfig(options.config, headers) };
  const fixed = fixedResponses(headers);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  // One trust function (and its remembered answers) for Fastify, the client address and the host.
  const trust = trustFunction(options.trustProxy ?? false);
  const ids = requestIds();
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  const tls = options.https
    ? {
        ...options.https,
        ...TLS_SETTINGS,
        // Node's default is 120 s: a connection that never finishes its handshake is held
        // no longer than one that never sends its headers.
        handshakeTimeout: headersTimeout,
      }
    : undefined;
  // Every request goes to the hot path first (hot-path.ts), then to Fastify's own handler
  // (`app.routing`, the handler Fastify gives the server factory); set once the app is built.
  let dispatch: (req: IncomingMessage, res: ServerResponse) => void = () => {};

  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // Read by Fastify for the URL listen() returns; the server itself is made below.
    ...(tls ? { https: tls } : {}),
    serverFactory: () => nodeServer(limits, headersTimeout, tls, (req, res) => dispatch(req, res)),
    // One line per discovery request, written by the route; Fastify's two lines would log URLs.
    logController: new LogController({ disableRequestLogging: true }),
    // A client's X-Request-Id is not trusted into logs; ids are shared with the hot path.
    requestIdHeader: false,
    genReqId: ids,
    // No endpoint takes a body; what a client sends anyway is capped.
    bodyLimit: 1024,
    // While shutting down, a request on a connection already open gets its normal answer (with
    // Connection: close, below), not a 503: the service can still answer it.
    return503OnClosing: false,
    trustProxy: trust,
    routerOptions: {
      // The discovery route reads its two parameters itself (discovery/query.ts); nothing else
      // takes a query, so Fastify is spared parsing one on every request.
      querystringParser: () => NO_QUERY,
    },
    // A path with invalid percent-encoding and the like: a plain 400 that echoes nothing.
    frameworkErrors: (_error, _request, reply) => {
      refuse(reply, fixed.badRequest, 'bad_request');
    },
  }) as unknown as FastifyInstance;

  const connections = trackConnections(app.server, {
    headersTimeoutMs: headersTimeout,
    idleTimeoutMs: Math.max(limits.requestTimeoutMs, limits.keepAliveTimeoutMs) * 3,
    secure: options.https !== undefined,
  });

  const { metrics } = options;
  const write = options.writer ?? publicWrite;
  const log = accessLog(options.logger, userFingerprinter(options.logHashKey));
  /** A discovery decision: written, counted and logged, from the hot path or the route. */
  const respond = (
    res: ServerResponse,
    decision: Decision,
    method: string,
    ms: number,
    id?: string,
  ) => {
    write(res, decision.response);
    const status = decision.response.status;
    metrics?.request(decision.tenant, decision.outcome, status, ms / 1000);
    log?.(id ?? ids(), decision, method, status, ms);
  };
  const admit = admission({
    maxUrlLength: limits.maxUrlLength,
    rateLimit: {
      perMinute: limits.rateLimitPerMinute,
      maxClients: limits.rateLimitClients,
      ipv6Prefix: limits.rateLimitIpv6Prefix,
    },
    clientAddress: clientAddressOf(trust),
    fixed,
  });
  const hot = hotPath({
    state,
    connections,
    admission: admit,
    requestHost: requestHostOf(trust),
    respond: (res, decision, method, startedAt) =>
      respond(res, decision, method, performance.now() - startedAt),
  });
  /** Every answer but a discovery decision: sent, and counted under its own outcome. */
  const refuse: Refuse = (reply, response, outcome, extraHeaders) => {
    metrics?.request(undefined, outcome, response.status, reply.elapsedTime / 1000);
    return sendPrepared(reply, response, extraHeaders);
  };
  dispatch = (req, res) => {
    if (!hot(req, res)) app.routing(req, res);
  };
  app.addHook('preClose', () => connections.drain());
  app.addHook('onRequest', admissionHook(connections, admit, refuse, fixed.notFound));

  decorateTable(app, state, headers);
  app.setNotFoundHandler((_request, reply) => refuse(reply, fixed.notFound, 'other_path'));
  app.setErrorHandler(errorHandler(refuse, fixed));

  await app.register(discoveryRoutes, { fixed, refuse, respond, state });
  // Not ready from the moment a drain begins, as on the admin listener: a load balancer that asks
  // on a kept-alive connection stops sending new requests here.
  await app.register(healthRoutes, {
    ready: () => state.table !== undefined && !connections.draining,
  });
  return app;
}

/**
 * The Node server Fastify runs on, with every request handed to `listener`. No socket timeout
 * (Node's default; Fastify's connectionTimeout set one, re-armed on every read and write): a
 * connection that makes no progress is closed by connections.ts instead.
 */
function nodeServer(
  limits: Limits,
  headersTimeout: number,
  tls: (HttpsServerOptions & { handshakeTimeout: number }) | undefined,
  listener: (req: IncomingMessage, res: ServerResponse) => void,
) {
  const http = {
    // Slow clients cannot hold a connection: headers and the whole request in bounded time.
    headersTimeout,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node enforces those timeouts only at this interval (30 s by default): check every second.
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
  };
  const server = tls ? createSecureServer({ ...http, ...tls }) : createServer(http);
  server.on('request', listener);
  return server;
}

/** replaceConfig, tableBuilder and routingTable (see the declaration above). */
function decorateTable(
  app: FastifyInstance,
  state: { table: RoutingTable },
  headers: Readonly<Record<string, string>>,
): void {
  app.decorate('replaceConfig', (config: Config, table?: RoutingTable) => {
    // Compiled first, then one assignment: a request reads state.table once, so it sees either
    // the old table or the new one, never a mix.
    state.table = table ?? compileConfig(config, headers);
  });
  app.decorate('tableBuilder', (userLists: Config['userLists']) =>
    tableBuilder(userLists, headers),
  );
  app.decorate('routingTable', () => state.table);
}

/**
 * Fastify's side of admission (http/admission.ts): every request Fastify takes is touched for
 * the idle sweep, closes its connection after the answer while draining, and gets the refusal
 * the hot path found (without being counted again) or, for any other path, the one 404, before
 * any body is read or parsed.
 */
function admissionHook(
  connections: Connections,
  admit: Admission,
  refuse: Refuse,
  notFound: PreparedResponse,
): onRequestHookHandler {
  return (request, reply, done) => {
    const raw = request.raw;
    connections.answering(raw, reply.raw);
    const refusal = admit.refusalOf(raw);
    if (refusal !== undefined) refuse(reply, refusal.response, refusal.outcome, refusal.headers);
    else if (request.is404) refuse(reply, notFound, 'other_path');
    done();
  };
}

/** A 4xx for what a client got wrong; a 5xx that never shows internals (the log has them, scrubbed). */
function errorHandler(refuse: Refuse, fixed: FixedResponses) {
  return (
    error: { statusCode?: number; code?: string },
    request: FastifyRequest,
    reply: FastifyReply,
  ) => {
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      request.log.info({ status, code: error.code }, 'request refused');
      return refuse(reply, fixed.clientError(status), 'client_error');
    }
    request.log.error({ err: error }, 'request failed');
    return refuse(reply, fixed.internal, 'internal_error');
  };
}
