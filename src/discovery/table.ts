// The routing table: every tenant's rules and prepared answers, keyed by the domains it serves.
import { nearestParent } from './host.js';
import type { Condition } from './match.js';
import type { PreparedResponse, RedirectTarget } from './response.js';

export type ActionOutcome = 'enroll' | 'reject' | 'not_found' | 'apple_business' | 'redirect';
export type Outcome = ActionOutcome | 'unknown_host' | 'bad_query';

export type CompiledAction =
  | {
      readonly outcome: 'enroll' | 'reject' | 'not_found' | 'apple_business';
      readonly response: PreparedResponse;
    }
  | { readonly outcome: 'redirect'; readonly redirect: RedirectTarget };

export interface CompiledRule {
  readonly name: string;
  readonly conditions: readonly Condition[];
  readonly action: CompiledAction;
}

export interface CompiledTenant {
  readonly name: string;
  /** Checked in order; the first whose conditions all hold decides. */
  readonly rules: readonly CompiledRule[];
  /** The tenant's own action, when no rule decides. */
  readonly action: CompiledAction;
}

export interface RoutingTable {
  /** Exact domains (ASCII, lower-case) to their tenant. */
  readonly exact: ReadonlyMap<string, CompiledTenant>;
  /** `*.contoso.com` is stored under `contoso.com`. */
  readonly wildcard: ReadonlyMap<string, CompiledTenant>;
  /** The service's own host names: for these the tenant comes from the user-identifier's domain. */
  readonly serviceHosts: ReadonlySet<string>;
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
  return nearestParent(host, (parent) => table.wildcard.get(parent));
}
