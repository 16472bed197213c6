// Checks across tenants and of meaning: unique names and domains, suspicious hosts, Intune URLs by hand.

import { checkIntuneUrl, repeatedSuffix } from './checks.js';
import type { SourcedTenant } from './model.js';
import { INTUNE_PATH } from './presets.js';
import type { ConfigProblem } from './problems.js';
import { ruleWarnings } from './rule-checks.js';
import type { Action } from './schema.js';
import { baseUrlFindings } from './vendors.js';

/** Across all documents: tenant names and domains are unique. */
export function crossCheck(
  tenants: readonly SourcedTenant[],
  serviceHosts: readonly { host: string; file: string; path: string }[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const names = new Map<string, SourcedTenant>();
  const domains = new Map<string, { tenant: SourcedTenant; path: string }>();
  for (const tenant of tenants) {
    const { file, path } = tenant.source;
    const sameName = names.get(tenant.name);
    if (sameName) {
      problems.push({
        severity: 'error',
        file,
        path: `${path}.name`,
        message: `"${tenant.name}" is also the name of ${where(sameName.source)}; tenant names must be unique`,
      });
    } else names.set(tenant.name, tenant);
    tenant.domains.forEach((domain, i) => {
      const domainPath = `${path}.domains[${i}]`;
      const first = domains.get(domain);
      if (!first) {
        domains.set(domain, { tenant, path: domainPath });
      } else if (first.tenant === tenant) {
        problems.push({
          severity: 'warning',
          file,
          path: domainPath,
          message: `"${domain}" is listed twice in this tenant`,
        });
      } else {
        problems.push({
          severity: 'error',
          file,
          path: domainPath,
          message: `"${domain}" is already served by tenant "${first.tenant.name}" (${where({ file: first.tenant.source.file, path: first.path })}); a domain belongs to one tenant`,
        });
      }
    });
  }
  for (const { host, file, path } of serviceHosts) {
    const tenant = domains.get(host)?.tenant;
    const message = host.startsWith('*.')
      ? `"${host}" is a wildcard; list the service's own host names exactly`
      : tenant
        ? `"${host}" is also a domain of tenant "${tenant.name}" (${where(tenant.source)}); a host is either the service's own or a tenant's`
        : undefined;
    if (message) problems.push({ severity: 'error', file, path, message });
  }
  return problems;
}

function where(source: { file: string; path: string }): string {
  return `${source.file} ${source.path}`;
}

/** Every action of a tenant with its JSON path: its own, then each rule's. */
function actionsOf(tenant: SourcedTenant): { action: Action; path: string }[] {
  return [
    { action: tenant.action, path: tenant.source.path },
    ...tenant.rules.map((rule, i) => ({
      action: rule.action,
      path: `${tenant.source.path}.rules[${i}]`,
    })),
  ];
}

/** Checks of meaning rather than shape; mostly warnings: legal but probably wrong. */
export function semanticChecks(tenants: readonly SourcedTenant[]): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  for (const tenant of tenants) {
    const { file } = tenant.source;
    for (const { action, path } of actionsOf(tenant)) found.push(...urlChecks(action, path, file));
    for (const warning of ruleWarnings(tenant.rules)) {
      found.push({
        severity: 'warning',
        file,
        path: `${tenant.source.path}.rules[${warning.rule}]`,
        message: warning.message,
      });
    }
  }
  return found;
}

/** An enroll's BaseURL or a redirect's target: a doubled label; a hand-written BaseURL's vendor. */
function urlChecks(action: Action, path: string, file: string): ConfigProblem[] {
  if (action.kind !== 'enroll' && action.kind !== 'redirect') return [];
  const found: ConfigProblem[] = [];
  const key = action.kind === 'enroll' ? 'enroll' : 'redirect';
  const url = new URL(action.kind === 'enroll' ? action.server.baseUrl : action.url);
  const doubled = repeatedSuffix(url.hostname);
  if (doubled) {
    found.push({
      severity: 'warning',
      file,
      path: `${path}.${key}`,
      message: `the host "${url.hostname}" repeats its last label; did you mean "${doubled}"?`,
    });
  }
  if (action.kind === 'enroll' && action.server.preset === 'custom') {
    const at = { file, path: `${path}.enroll.baseUrl` };
    found.push(...intuneByHand(url, at));
    // A Version its vendor's path does not serve, a known wrong host (docs/protocol.md section 7).
    for (const f of baseUrlFindings(url, action.server.version)) {
      found.push({
        severity: f.verdict === 'fail' ? 'error' : 'warning',
        ...at,
        message: `${f.detail}; ${f.fix}`,
      });
    }
  }
  return found;
}

/** A hand-written Intune BaseURL gets the checks the intune preset makes impossible to fail. */
function intuneByHand(url: URL, at: { file: string; path: string }): ConfigProblem[] {
  const facts = checkIntuneUrl(url);
  if (facts === undefined) return [];
  const found: ConfigProblem[] = [];
  const problem = (severity: 'error' | 'warning', message: string) =>
    found.push({ severity, ...at, message });
  if (facts.badPath !== undefined) {
    problem(
      'error',
      `Intune's enrollment path is ${INTUNE_PATH}, not ${facts.badPath}; or use the "intune" preset`,
    );
  }
  if (facts.badTenantId !== undefined) {
    problem(
      'error',
      `aadTenantId must be your Entra tenant ID (a GUID), not ${JSON.stringify(facts.badTenantId)}; or use the "intune" preset`,
    );
  }
  return found;
}
