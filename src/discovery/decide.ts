// The discovery decision: (host, query) -> which answer, and which rule chose it. Pure: no Fastify, no I/O.
import { hostKey, isAscii, toAsciiDomain } from './host.js';
import { familyClass, type MatchInput } from './match.js';
import { type DiscoveryQuery, parseDiscoveryQuery, type QueryResult, userDomain } from './query.js';
import { type PreparedResponse, redirectResponse } from './response.js';
import {
  type CompiledAction,
  type CompiledTenant,
  findTenant,
  type Outcome,
  type RoutingTable,
} from './table.js';

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
  /** The rule that decided; undefined when the tenant's own action did. */
  readonly rule: string | undefined;
  /** The parsed query; undefined when the host is unknown or the query could not be read. */
  readonly query: DiscoveryQuery | undefined;
}

/** What `explain` shows: every rule checked, and each condition's result. */
export interface RuleTrace {
  readonly rule: string;
  readonly conditions: readonly { readonly label: string; readonly held: boolean }[];
  readonly matched: boolean;
}

export interface DecideTrace {
  /** How the tenant was found. */
  tenantBy?: 'host' | 'user-identifier domain';
  readonly rules: RuleTrace[];
}

export function decide(
  table: RoutingTable,
  request: DiscoveryRequest,
  trace?: DecideTrace,
): Decision {
  const key = hostKey(request.host);
  // A provider's central host: the customer is the domain the person typed (docs/protocol.md section 1).
  const central = key !== undefined && table.serviceHosts.has(key);
  const early = central ? parseDiscoveryQuery(request.search) : undefined;
  const tenant = early
    ? tenantOfUser(table, early)
    : key === undefined
      ? undefined
      : findTenant(table, key);
  if (trace) trace.tenantBy = central ? 'user-identifier domain' : 'host';
  // Unknown hosts are answered with the same bytes whatever was sent: the answer must not reveal
  // which domains are configured. A 404 also lets devices on iOS 18.2 / macOS 15.2 and later fall
  // back to Apple Business Manager (docs/protocol.md section 2).
  if (tenant === undefined) {
    return {
      outcome: 'unknown_host',
      response: table.notFound,
      tenant: undefined,
      rule: undefined,
      query: undefined,
    };
  }
  const parsed = early ?? parseDiscoveryQuery(request.search);
  if (!parsed.ok) {
    // A tenant that answers 404 by default stays hidden whatever the query: a 400 here would tell
    // that the domain is configured. (Its rules cannot be read without a query.)
    if (tenant.action.outcome === 'not_found' || tenant.action.outcome === 'apple_business') {
      return answer(tenant.action, tenant.name, undefined, {
        userIdentifier: undefined,
        modelFamily: undefined,
      });
    }
    return {
      outcome: 'bad_query',
      response: table.badQuery,
      tenant: tenant.name,
      rule: undefined,
      query: undefined,
    };
  }
  const query = parsed.query;
  if (tenant.rules.length > 0) {
    const input = new RequestFacts(query);
    for (const rule of tenant.rules) {
      if (
        trace ? traced(rule.name, rule.conditions, input, trace) : allHold(rule.conditions, input)
      ) {
        return answer(rule.action, tenant.name, rule.name, query);
      }
    }
  }
  return answer(tenant.action, tenant.name, undefined, query);
}

/** The tenant of the domain the person typed, on a provider's central host. */
function tenantOfUser(table: RoutingTable, parsed: QueryResult): CompiledTenant | undefined {
  if (!parsed.ok) return undefined;
  const domain = toAsciiDomain(userDomain(parsed.query.userIdentifier) ?? '');
  return domain === undefined ? undefined : findTenant(table, domain);
}

function answer(
  action: CompiledAction,
  tenant: string,
  rule: string | undefined,
  query: DiscoveryQuery,
): Decision {
  const response =
    action.outcome === 'redirect' ? redirectResponse(action.redirect, query) : action.response;
  return { outcome: action.outcome, response, tenant, rule, query };
}

/** The request as the conditions see it; the domain is only worked out if a condition asks. */
class RequestFacts implements MatchInput {
  readonly user: string | undefined;
  readonly family: string;
  #domain: string | undefined | null = null;

  constructor(query: DiscoveryQuery) {
    this.user = query.userIdentifier?.toLowerCase();
    this.family = familyClass(query.modelFamily);
  }

  get domain(): string | undefined {
    if (this.#domain === null) {
      const raw = userDomain(this.user);
      this.#domain = raw === undefined || isAscii(raw) ? raw : (toAsciiDomain(raw) ?? raw);
    }
    return this.#domain;
  }
}

function allHold(conditions: RuleTraceConditions, input: MatchInput): boolean {
  for (const condition of conditions) {
    if (!condition.test(input)) return false;
  }
  return true;
}

type RuleTraceConditions = CompiledTenant['rules'][number]['conditions'];

function traced(
  rule: string,
  conditions: RuleTraceConditions,
  input: MatchInput,
  trace: DecideTrace,
): boolean {
  const results = conditions.map((c) => ({ label: c.label, held: c.test(input) }));
  const matched = results.every((r) => r.held);
  trace.rules.push({ rule, conditions: results, matched });
  return matched;
}
