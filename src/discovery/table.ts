// The routing table: every tenant's prepared answer, keyed by the domains it serves.
import type { PreparedResponse } from './response.js';

export type Outcome = 'enroll' | 'unknown_host' | 'bad_query';

export interface CompiledTenant {
  readonly name: string;
  readonly outcome: 'enroll';
  readonly answer: PreparedResponse;
}

export interface RoutingTable {
  /** Exact domains (ASCII, lower-case) to their tenant. */
  readonly exact: ReadonlyMap<string, CompiledTenant>;
  /** `*.contoso.com` is stored under `contoso.com`. */
  readonly wildcard: ReadonlyMap<string, CompiledTenant>;
  readonly notFound: PreparedResponse;
  readonly badQuery: PreparedResponse;
}

/**
 * The tenant for a normalised host: an exact domain first, then the longest matching wildcard.
 * `*.contoso.com` matches any name below contoso.com, at any depth, but not contoso.com itself.
 */
export function findTenant(table: RoutingTable, host: string): CompiledTenant | undefined {
  const exact = table.exact.get(host);
  if (exact !== undefined || table.wildcard.size === 0) return exact;
  let dot = host.indexOf('.');
  while (dot !== -1) {
    const match = table.wildcard.get(host.slice(dot + 1));
    if (match !== undefined) return match;
    dot = host.indexOf('.', dot + 1);
  }
  return undefined;
}
