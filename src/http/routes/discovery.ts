// The discovery route: one lookup in the compiled table, precomputed bytes out, one log line.
import type { FastifyInstance } from 'fastify';
import { type Decision, decide } from '../../discovery/decide.js';
import { userDomain } from '../../discovery/query.js';
import type { RoutingTable } from '../../discovery/table.js';
import type { Metrics } from '../../ops/metrics.js';
import { type FixedResponses, sendPrepared } from '../responses.js';

export const WELL_KNOWN_PATH = '/.well-known/com.apple.remotemanagement';

export interface DiscoveryRouteOptions {
  /** Read once per request, so a reload that replaces `table` never mixes two configs in one answer. */
  readonly state: { readonly table: RoutingTable };
  readonly fixed: FixedResponses;
  readonly fingerprint: (identifier: string) => string;
  readonly metrics?: Metrics;
  /** Whether the per-request info line is written; when not, its HMAC is not computed either. */
  readonly logRequests: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    discovery: Decision | null;
  }
}

export async function discoveryRoutes(app: FastifyInstance, options: DiscoveryRouteOptions) {
  const { state, fixed, fingerprint, metrics, logRequests } = options;
  app.decorateRequest('discovery', null);

  app.route({
    method: ['GET', 'HEAD'],
    url: WELL_KNOWN_PATH,
    handler(request, reply) {
      const url = request.raw.url ?? '';
      const q = url.indexOf('?');
      const decision = decide(state.table, {
        // request.host is X-Forwarded-Host only when the peer is a trusted proxy (TRUST_PROXY).
        host: request.host,
        search: q === -1 ? '' : url.slice(q + 1),
      });
      request.discovery = decision;
      return sendPrepared(reply, decision.response);
    },
    onResponse(request, reply, done) {
      const decision = request.discovery;
      if (decision !== null) {
        metrics?.request(
          decision.tenant,
          decision.outcome,
          reply.statusCode,
          reply.elapsedTime / 1000,
        );
      }
      if (decision !== null && logRequests) {
        const query = decision.query;
        const user = query?.userIdentifier;
        request.log.info(
          {
            tenant: decision.tenant,
            rule: decision.rule,
            outcome: decision.outcome,
            status: reply.statusCode,
            method: request.method,
            modelFamily: query?.modelFamily?.slice(0, 32),
            // Never the address itself: its domain, and a keyed hash to correlate one person's attempts.
            userDomain: userDomain(user)?.slice(0, 253),
            user: user === undefined ? undefined : fingerprint(user),
            ms: Math.round(reply.elapsedTime * 100) / 100,
          },
          'discovery',
        );
      }
      done();
    },
  });

  // Any other method: 405 with Allow. Answered in onRequest, before a body could be parsed, so a
  // POST with an odd Content-Type still gets 405 and not 415.
  app.route({
    method: app.supportedMethods.filter((m) => m !== 'GET' && m !== 'HEAD'),
    url: WELL_KNOWN_PATH,
    onRequest(_request, reply, done) {
      sendPrepared(reply, fixed.methodNotAllowed);
      done();
    },
    handler() {
      // Never reached: onRequest has answered.
    },
  });
}
