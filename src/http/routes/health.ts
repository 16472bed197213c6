// Liveness and readiness, with @fastify/helmet's headers (the same set the discovery answers carry).
import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import { prepare } from '../../discovery/response.js';
import { sendPrepared } from '../responses.js';
import { HELMET_OPTIONS } from '../security-headers.js';

export interface HealthRouteOptions {
  /** Whether a config is loaded and compiled. */
  readonly ready: () => boolean;
}

const ALIVE = prepare(200, { status: 'ok' }, {});
const READY = prepare(200, { status: 'ready' }, {});
const NOT_READY = prepare(503, { status: 'not_ready' }, {});

export async function healthRoutes(app: FastifyInstance, options: HealthRouteOptions) {
  await app.register(fastifyHelmet, HELMET_OPTIONS);
  app.get('/healthz', (_request, reply) => sendPrepared(reply, ALIVE));
  app.get('/readyz', (_request, reply) => sendPrepared(reply, options.ready() ? READY : NOT_READY));
}
