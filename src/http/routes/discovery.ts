// The discovery route: one lookup in the compiled table, precomputed bytes out, one log line.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Decision, decide } from '../../discovery/decide.js';
import { toAsciiDomain } from '../../discovery/host.js';
import { isModelFamily, userDomain } from '../../discovery/query.js';
import type { PreparedResponse } from '../../discovery/response.js';
import type { RoutingTable } from '../../discovery/table.js';
import type { Metrics } from '../../ops/metrics.js';
import { WELL_KNOWN_PATH } from '../../protocol.js';
import { REQUEST_MESSAGE } from '../logger.js';
import { type FixedResponses, writePrepared } from '../responses.js';

export interface DiscoveryRouteOptions {
  /** Read once per request, so a reload that replaces `table` never mixes two configs in one answer. */
  readonly state: { readonly table: RoutingTable };
  readonly fixed: FixedResponses;
  readonly fingerprint: (identifier: string) => string;
  readonly metrics?: Metrics;
  /** Whether the per-request info line is written; when not, its HMAC is not computed either. */
  readonly logRequests: boolean;
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

function familyLabel(family: string): string {
  return isModelFamily(family) ? family : 'other';
}

/** Checked domains remembered (most requests come from a few domains); emptied when full. */
const checkedDomains = new Map<string, string>();
const REMEMBERED_DOMAINS = 1024;

function loggedDomain(user: string | undefined): string | undefined {
  const domain = userDomain(user);
  if (domain === undefined) return undefined;
  let logged = checkedDomains.get(domain);
  if (logged === undefined) {
    logged = toAsciiDomain(domain) ?? 'invalid';
    if (checkedDomains.size >= REMEMBERED_DOMAINS) checkedDomains.clear();
    checkedDomains.set(domain, logged);
  }
  return logged;
}

export async function discoveryRoutes(app: FastifyInstance, options: DiscoveryRouteOptions) {
  const { state, fixed, fingerprint, metrics, logRequests, refuse } = options;

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
        // Apple's values only: anything else could be an address sent in the wrong parameter.
        modelFamily: query?.modelFamily === undefined ? undefined : familyLabel(query.modelFamily),
        // Never the address itself: its domain when it is one (a valid name, so never a string
        // with an @ or an escaped one), and a keyed hash to correlate one person's attempts.
        userDomain: loggedDomain(user),
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
      // request.host is X-Forwarded-Host only when the peer is a trusted proxy (TRUST_PROXY).
      const decision = decide(state.table, requestTarget(request.raw.url ?? '', request.host));
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
      refuse(reply, fixed.methodNotAllowed, 'method_not_allowed');
      done();
    },
    handler() {
      // Never reached: onRequest has answered.
    },
  });
}
