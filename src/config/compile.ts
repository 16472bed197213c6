// The compile step: a validated config becomes the routing table that requests read, once per load.
import { type Condition, domainMatcher, globMatcher, percentBucket } from '../discovery/match.js';
import {
  ERROR_DOCUMENTS,
  failedDocument,
  type PreparedResponse,
  preparer,
  serversDocument,
} from '../discovery/response.js';
import type {
  CompiledAction,
  CompiledRule,
  CompiledTenant,
  RoutingTable,
} from '../discovery/table.js';
import { remember } from '../remember.js';
import type { Config } from './load.js';
import type { Action, RuleConfig, TenantConfig } from './schema.js';

type Headers = Readonly<Record<string, string>>;

const NO_RULES: readonly CompiledRule[] = Object.freeze([]);

/**
 * Builds every answer's bytes and headers, and every rule's matchers, now: a request does one
 * lookup, a few set or string tests, and writes precomputed bytes. `baseHeaders` are the security
 * headers every answer carries.
 */
export function compileConfig(config: Config, baseHeaders: Headers = {}): RoutingTable {
  const builder = tableBuilder(config.userLists, baseHeaders);
  for (const tenant of config.tenants) builder.add(tenant);
  return builder.finish(config.serviceHosts);
}

export interface TableBuilder {
  /** Compiles one tenant into the table being built. */
  add(tenant: TenantConfig): void;
  /** The table, once every tenant is added. */
  finish(serviceHosts: readonly string[]): RoutingTable;
}

/**
 * compileConfig tenant by tenant, for a reload that receives its tenants in parts
 * (config/reload.ts) and must not hold the request path for the whole of them.
 */
export function tableBuilder(
  userLists: Config['userLists'],
  baseHeaders: Headers = {},
): TableBuilder {
  const prepare = preparer(baseHeaders);
  const notFound = prepare(404, ERROR_DOCUMENTS.notFound);
  const exact = new Map<string, CompiledTenant>();
  const wildcard = new Map<string, CompiledTenant>();
  // Tenants share their actions and rules when the config loader made them once for many
  // (config/fast-tenant.ts): each is compiled once, and the compiled tables share it too.
  const actions = new Map<Action, CompiledAction>();
  const action = (source: Action) =>
    remember(actions, source, () => compileAction(source, prepare, baseHeaders, notFound));
  const rules = new Map<RuleConfig, CompiledRule>();
  const rule = (source: RuleConfig) =>
    remember(rules, source, () => ({
      name: source.name,
      conditions: compileConditions(source, userLists),
      action: action(source.action),
    }));
  return {
    add(tenant) {
      const compiled: CompiledTenant = {
        name: tenant.name,
        action: action(tenant.action),
        rules: tenant.rules.length === 0 ? NO_RULES : tenant.rules.map(rule),
      };
      for (const domain of tenant.domains) {
        if (domain.startsWith('*.')) wildcard.set(domain.slice(2), compiled);
        else exact.set(domain, compiled);
      }
    },
    finish(serviceHosts) {
      return {
        exact,
        wildcard,
        serviceHosts: new Set(serviceHosts),
        notFound,
        badQuery: prepare(400, ERROR_DOCUMENTS.badQuery),
      };
    },
  };
}

function compileAction(
  action: Action,
  prepare: ReturnType<typeof preparer>,
  headers: Headers,
  notFound: PreparedResponse,
): CompiledAction {
  switch (action.kind) {
    case 'enroll':
      return { outcome: 'enroll', response: prepare(200, serversDocument(action.server)) };
    case 'reject':
      return {
        outcome: 'reject',
        response: prepare(403, failedDocument(action.message, action.description)),
      };
    case 'notFound':
      // The same bytes as an unknown host: a deliberate 404 reveals nothing either.
      return { outcome: 'not_found', response: notFound };
    case 'appleBusiness':
      // The same bytes again; only the outcome (logs, metrics, explain, status) names the choice.
      return { outcome: 'apple_business', response: notFound };
    case 'redirect': {
      const q = action.url.indexOf('?');
      const query = q === -1 ? '' : action.url.slice(q + 1);
      return {
        outcome: 'redirect',
        redirect: {
          status: action.status,
          base: q === -1 ? action.url : action.url.slice(0, q),
          params: query
            .split('&')
            .filter((pair) => pair.length > 0)
            .map((pair) => ({ name: safeDecode(pair.split('=')[0] ?? ''), pair })),
          headers: { ...headers, 'cache-control': 'no-store' },
        },
      };
    }
  }
}

/** Cheapest tests first; a rule matches when all hold. */
function compileConditions(rule: RuleConfig, lists: Config['userLists']): Condition[] {
  const when = rule.when;
  const conditions: Condition[] = [];
  if (when.modelFamilies) {
    const families = new Set<string>(when.modelFamilies);
    conditions.push({
      label: `modelFamilies [${when.modelFamilies.join(', ')}]`,
      test: (input) => families.has(input.family),
    });
  }
  if (when.users || when.usersFile) {
    const fromFile = when.usersFile === undefined ? undefined : lists.get(when.usersFile);
    const listed = when.users
      ? new Set([...when.users, ...(fromFile ?? [])])
      : (fromFile ?? new Set());
    conditions.push({
      label: `users (${listed.size} listed${when.usersFile ? `, from ${when.usersFile}` : ''})`,
      test: (input) => input.user !== undefined && listed.has(input.user),
    });
  }
  if (when.userDomains) {
    const matches = domainMatcher(when.userDomains);
    conditions.push({
      label: `userDomains [${when.userDomains.join(', ')}]`,
      test: (input) => input.domain !== undefined && matches(input.domain),
    });
  }
  if (when.userPatterns) {
    const matchers = when.userPatterns.map(globMatcher);
    conditions.push({
      label: `userPatterns [${when.userPatterns.join(', ')}]`,
      test: (input) => input.user !== undefined && matchers.some((m) => m(input.user as string)),
    });
  }
  if (when.percent !== undefined) {
    const limit = Math.round(when.percent * 100);
    const name = rule.name;
    conditions.push({
      label: `percent ${when.percent}`,
      // 100 % holds for everyone with a user-identifier: no bucket to compute.
      test:
        limit >= 10_000
          ? (input) => input.user !== undefined
          : (input) => input.user !== undefined && percentBucket(name, input.user) < limit,
    });
  }
  return conditions;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
