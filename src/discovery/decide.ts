// The discovery decision: (host, query) -> which answer. Pure: no Fastify, no I/O.
import { hostKey } from './host.js';
import { type DiscoveryQuery, parseDiscoveryQuery } from './query.js';
import type { PreparedResponse } from './response.js';
import { findTenant, type Outcome, type RoutingTable } from './table.js';

export interface DiscoveryRequest {
  /** The Host header as received. */
  readonly host: string | undefined;
  /** The raw query string, without the leading `?`. */
  readonly search: string;
}

export interface Decision {
  readonly outcome: Outcome;
  readonly response: PreparedResponse;
  /** The tenant that answered; undefined for an unknown host. */
  readonly tenant: string | undefined;
  /** The parsed query; undefined when the host is unknown or the query could not be read. */
  readonly query: DiscoveryQuery | undefined;
}

export function decide(table: RoutingTable, request: DiscoveryRequest): Decision {
  const key = hostKey(request.host);
  const tenant = key === undefined ? undefined : findTenant(table, key);
  // Unknown hosts are answered before the query is read, with the same bytes whatever was sent:
  // the answer must not reveal which domains are configured. A 404 also lets devices on
  // iOS 18.2 / macOS 15.2 and later fall back to Apple Business Manager (PROTOCOL.md section 2).
  if (tenant === undefined) {
    return {
      outcome: 'unknown_host',
      response: table.notFound,
      tenant: undefined,
      query: undefined,
    };
  }
  const parsed = parseDiscoveryQuery(request.search);
  if (!parsed.ok) {
    return {
      outcome: 'bad_query',
      response: table.badQuery,
      tenant: tenant.name,
      query: undefined,
    };
  }
  return {
    outcome: tenant.outcome,
    response: tenant.answer,
    tenant: tenant.name,
    query: parsed.query,
  };
}
