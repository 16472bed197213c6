// The compile step: a validated config becomes the routing table that requests read, once per load.
import { ERROR_DOCUMENTS, prepare, serversDocument } from '../discovery/response.js';
import type { CompiledTenant, RoutingTable } from '../discovery/table.js';
import type { Config } from './load.js';

/**
 * Builds every answer's bytes and headers now, so that a request does one lookup and writes
 * precomputed bytes. `baseHeaders` are the security headers every answer carries.
 */
export function compileConfig(
  config: Config,
  baseHeaders: Readonly<Record<string, string>> = {},
): RoutingTable {
  const exact = new Map<string, CompiledTenant>();
  const wildcard = new Map<string, CompiledTenant>();
  for (const tenant of config.tenants) {
    const compiled: CompiledTenant = {
      name: tenant.name,
      outcome: 'enroll',
      answer: prepare(200, serversDocument(tenant.enroll), baseHeaders),
    };
    for (const domain of tenant.domains) {
      if (domain.startsWith('*.')) wildcard.set(domain.slice(2), compiled);
      else exact.set(domain, compiled);
    }
  }
  return {
    exact,
    wildcard,
    notFound: prepare(404, ERROR_DOCUMENTS.notFound, baseHeaders),
    badQuery: prepare(400, ERROR_DOCUMENTS.badQuery, baseHeaders),
  };
}
