// The discovery route, for the requests the hot path leaves to Fastify (an absolute-form target, …).
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { type Decision, decide } from '../../discovery/decide.js';
import type { PreparedResponse } from '../../discovery/response.js';
import type { RoutingTable } from '../../discovery/table.js';
import { WELL_KNOWN_PATH } from '../../protocol.js';
import type { FixedResponses } from '../responses.js';

export interface DiscoveryRouteOptions {
  /** Read once per request, so a reload that replaces `table` never mixes two configs in one answer. */
  readonly state: { readonly table: RoutingTable };
  readonly fixed: FixedResponses;
  /** Writes, counts and logs a decision (the hot path does the same: http/app.ts). */
  readonly respond: (
    res: ServerResponse,
    decision: Decision,
    method: string,
    ms: number,
    id: string,
  ) => void;
  /** Sends one of the service's fixed answers and counts it under `outcome`. */
  readonly refuse: (reply: FastifyReply, response: PreparedResponse, outcome: string) => unknown;
}

/**
 * The host and query of a request target. An absolute-form target (`GET http://host/path`, which
 * a proxy may send) names the host itself, and RFC 9112 section 3.2.2 says it wins over Host:
 * https://www.rfc-editor.org/rfc/rfc9112#section-3.2.2
 */
export function requestTarget(
  url: string,
  host: string | undefined,
): { host: string | undefined; search: string } {
  const q = url.indexOf('?');
  const search = q === -1 ? '' : url.slice(q + 1);
  if (url.charCodeAt(0) === 47 /* / */) return { host, search };
  const start = url.indexOf('://') + 3;
  const end = url.indexOf('/', start);
  const authority = start === 2 || end === -1 ? undefined : url.slice(start, end);
  // Userinfo (`user@host`) is not part of a Host: such a target names no configured domain.
  return { host: authority?.includes('@') ? undefined : authority, search };
}

export async function discoveryRoutes(app: FastifyInstance, options: DiscoveryRouteOptions) {
  const { state, fixed, respond, refuse } = options;

  app.route({
    method: ['GET', 'HEAD'],
    url: WELL_KNOWN_PATH,
    handler(request, reply) {
      // request.host is X-Forwarded-Host only when the peer is a trusted proxy (TRUST_PROXY).
      const decision = decide(state.table, requestTarget(request.raw.url ?? '', request.host));
      // Precomputed bytes straight to the socket, without Fastify's send and onResponse machinery.
      reply.hijack();
      respond(reply.raw, decision, request.method, reply.elapsedTime, request.id);
    },
  });

  // Any other method: 405 with Allow. Answered in onRequest, before a body could be parsed, so a
  // POST with an odd Content-Type still gets 405 and not 415.
  app.route({
    method: app.supportedMethods.filter((m) => m !== 'GET' && m !== 'HEAD'),
    url: WELL_KNOWN_PATH,
    onRequest(_request, reply, done) {
      refuse(reply, fixed.methodNotAllowed, 'method_not_allowed');
      done();
    },
    handler() {
      // Never reached: onRequest has answered.
    },
  });
}
