// The discovery route: one lookup in the compiled table, precomputed bytes out, one log line.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Decision, decide } from '../../discovery/decide.js';
import { userDomain } from '../../discovery/query.js';
import type { RoutingTable } from '../../discovery/table.js';
import type { Metrics } from '../../ops/metrics.js';
import { REQUEST_MESSAGE } from '../logger.js';
import { type FixedResponses, sendPrepared, writePrepared } from '../responses.js';

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

export async function discoveryRoutes(app: FastifyInstance, options: DiscoveryRouteOptions) {
  const { state, fixed, fingerprint, metrics, logRequests } = options;

  function logDecision(request: FastifyRequest, decision: Decision, status: number, ms: number) {
    const query = decision.query;
    const user = query?.userIdentifier;
    request.log.info(
      {
        tenant: decision.tenant,
        rule: decision.rule,
        outcome: decision.outcome,
        status,
        method: request.method,
        modelFamily: query?.modelFamily?.slice(0, 32),
        // Never the address itself: its domain, and a keyed hash to correlate one person's attempts.
        userDomain: userDomain(user)?.slice(0, 253),
        user: user === undefined ? undefined : fingerprint(user),
        ms: Math.round(ms * 100) / 100,
      },
      REQUEST_MESSAGE,
    );
  }
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
      // The hot path: precomputed bytes straight to the socket, then the metrics and the log line,
      // without Fastify's send and onResponse machinery (docs/PERFORMANCE.md says what this bought).
      reply.hijack();
      writePrepared(reply.raw, decision.response);
      const status = decision.response.status;
      const ms = reply.elapsedTime;
      metrics?.request(decision.tenant, decision.outcome, status, ms / 1000);
      if (logRequests) logDecision(request, decision, status, ms);
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
