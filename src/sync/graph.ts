// Customers from Microsoft Graph with GDAP: the partner's delegatedAdminCustomers, then each
// taken customer's /v1.0/domains with a token for that customer's tenant (docs/protocol.md
// section 7). Each cloud has its own sign-in and Graph hosts.
import { GUID } from '../config/checks.js';
import { type IntuneCloud, SIGN_IN_HOSTS } from '../config/presets.js';
import type { Client } from '../verify/fetch.js';
import { type ApiOptions, type Credentials, call, clientToken } from './cipp.js';
import { type Customer, SyncInputError } from './csv.js';

/** The variables the partner's Entra app is read from, in one place for the command and the docs. */
export const GRAPH_ENV = ['GRAPH_CLIENT_ID', 'GRAPH_CLIENT_SECRET', 'GRAPH_TENANT_ID'] as const;

/** Microsoft Graph's host per cloud (national clouds: learn.microsoft.com/graph/deployments). */
export const GRAPH_HOSTS: Record<IntuneCloud, string> = {
  commercial: 'graph.microsoft.com',
  usgov: 'graph.microsoft.us',
  china: 'microsoftgraph.chinacloudapi.cn',
};

/** A listing longer than this many pages never ends, as far as sync is concerned. */
const MAX_PAGES = 1000;

/**
 * Every `value` of a paged Graph listing, following `@odata.nextLink` on the same host; a page
 * that links back, or more than 1,000 pages, fails the run.
 */
async function pages(
  client: Client,
  first: URL,
  what: string,
  token: string,
  options: ApiOptions,
): Promise<unknown[]> {
  const out: unknown[] = [];
  const seen = new Set<string>();
  const headers = { authorization: `Bearer ${token}` };
  for (let url: URL | undefined = first; url !== undefined; ) {
    if (seen.size >= MAX_PAGES || seen.has(url.href)) {
      throw new SyncInputError(
        `${what}: the listing never ends (a page links back, or more than ${MAX_PAGES} pages)`,
      );
    }
    seen.add(url.href);
    const answer = (await call(client, url, what, { method: 'GET', headers }, options)) as {
      value?: unknown;
      '@odata.nextLink'?: unknown;
    } | null;
    if (!Array.isArray(answer?.value))
      throw new SyncInputError(`${what}: the answer has no value list`);
    out.push(...answer.value);
    const next = answer['@odata.nextLink'];
    url = typeof next === 'string' ? new URL(next) : undefined;
    if (url !== undefined && url.host !== first.host) {
      throw new SyncInputError(
        `${what}: a next page on another host (${url.host}) is not followed`,
      );
    }
  }
  return out;
}

/**
 * The partner's GDAP customers, with the verified, non-initial domains of those `take` wants
 * (on their tenant ID and name: Graph lists no default domain here). Any failure fails the run.
 */
export async function customersFromGraph(
  client: Client,
  cloud: IntuneCloud,
  credentials: Credentials,
  take: (tenant: { id: string; name: string; defaultDomain: string }) => boolean,
  options: ApiOptions = {},
): Promise<Customer[]> {
  const graph = GRAPH_HOSTS[cloud];
  const scope = `https://${graph}/.default`;
  const from = { signInHost: SIGN_IN_HOSTS[cloud], env: GRAPH_ENV };
  const partner = await clientToken(client, credentials, scope, options, from);
  const listing = new URL(`https://${graph}/v1.0/tenantRelationships/delegatedAdminCustomers`);
  const listed = await pages(client, listing, `Graph ${listing.pathname}`, partner, options);
  const customers: Customer[] = [];
  for (const [i, entry] of listed.entries()) {
    const { tenantId, displayName } = (entry ?? {}) as Record<string, unknown>;
    if (typeof tenantId !== 'string' || !GUID.test(tenantId)) {
      throw new SyncInputError(
        `Graph ${listing.pathname}: customer ${i + 1} has no tenantId (a GUID)`,
      );
    }
    const id = tenantId.toLowerCase();
    const name = typeof displayName === 'string' && displayName.trim() ? displayName.trim() : id;
    if (!take({ id, name, defaultDomain: '' })) {
      customers.push({ id, name, domains: [], cloud });
      continue;
    }
    // The same app, consented in the customer's tenant through GDAP: a token for that tenant.
    const token = await clientToken(client, { ...credentials, tenantId: id }, scope, options, from);
    const url = new URL(`https://${graph}/v1.0/domains`);
    const domains = await pages(client, url, `Graph /v1.0/domains of ${name}`, token, options);
    customers.push({
      id,
      name,
      cloud,
      domains: domains.flatMap((d) => {
        const { id: domain, isVerified, isInitial } = (d ?? {}) as Record<string, unknown>;
        return typeof domain === 'string' && isVerified === true && isInitial !== true
          ? [domain.toLowerCase()]
          : [];
      }),
    });
  }
  return customers;
}
