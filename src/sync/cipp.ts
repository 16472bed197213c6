// Customers from CIPP, the open-source Microsoft 365 partner portal: GET /api/ListTenants, then
// GET /api/ListDomains?tenantFilter=<tenant> for each customer taken, with an Entra
// client-credentials token for scope api://<client id>/.default (docs/protocol.md section 7).
import { GUID } from '../config/checks.js';
import { type Client, describeError, fetchAnswer } from '../verify/fetch.js';
import { type Customer, SyncInputError } from './csv.js';

/** The Entra app CIPP's API trusts; from the environment, never from arguments. */
export interface Credentials {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly tenantId: string;
}

/** The variables CIPP's credentials are read from, in one place for the command and the docs. */
export const CIPP_ENV = ['CIPP_CLIENT_ID', 'CIPP_CLIENT_SECRET', 'CIPP_TENANT_ID'] as const;

/** An API's answer this large is refused (a body that never ends). */
export const MAX_API_BYTES = 16 * 1024 * 1024;
/** Tries of one request answered 429 or 5xx, and the waits between them. */
const TRIES = 3;
const MAX_WAIT_MS = 30_000;

export interface ApiOptions {
  /** The first wait after a 429 or 5xx without Retry-After; each next one four times longer. */
  readonly backoffMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A CIPP tenant as ListTenants gives it. */
export interface CippTenant {
  readonly id: string;
  readonly name: string;
  readonly defaultDomain: string;
}

const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One API request, retried on 429 and 5xx (honouring Retry-After, at most 30 s) up to 3 tries;
 * any other status, a transport error or a body past 16 MiB fails the run, naming `what`.
 */
export async function call(
  client: Client,
  url: URL,
  what: string,
  init: { method: 'GET' | 'POST'; body?: string; headers: Record<string, string>; type?: string },
  options: ApiOptions,
): Promise<unknown> {
  const sleep = options.sleep ?? wait;
  for (let attempt = 1; ; attempt++) {
    let answer: Awaited<ReturnType<typeof fetchAnswer>>;
    try {
      answer = await fetchAnswer(client, url, init.method, init.body, {
        headers: { accept: 'application/json', ...init.headers },
        maxBytes: MAX_API_BYTES,
        ...(init.type ? { contentType: init.type } : {}),
      });
    } catch (error) {
      throw new SyncInputError(`${what}: ${describeError(error)}`);
    }
    const { status } = answer;
    if ((status === 429 || status >= 500) && attempt < TRIES) {
      const after = Number(answer.headers['retry-after']);
      const ms =
        Number.isFinite(after) && after >= 0
          ? after * 1000
          : (options.backoffMs ?? 500) * 4 ** (attempt - 1);
      await sleep(Math.min(ms, MAX_WAIT_MS));
      continue;
    }
    if (status !== 200) {
      const tries = status === 429 || status >= 500 ? ` (${TRIES} tries)` : '';
      throw new SyncInputError(`${what}: answered ${status}${tries}`);
    }
    try {
      return JSON.parse(answer.body.toString('utf8'));
    } catch {
      throw new SyncInputError(`${what}: the answer is not JSON`);
    }
  }
}

/**
 * A client-credentials token from `credentials.tenantId` on the sign-in host (commercial by
 * default); a 401 or 400 names the variables the credentials came from.
 */
export async function clientToken(
  client: Client,
  credentials: Credentials,
  scope: string,
  options: ApiOptions = {},
  from: { readonly signInHost?: string; readonly env?: readonly string[] } = {},
): Promise<string> {
  const host = from.signInHost ?? 'login.microsoftonline.com';
  const url = new URL(
    `https://${host}/${encodeURIComponent(credentials.tenantId)}/oauth2/v2.0/token`,
  );
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: credentials.clientId,
    client_secret: credentials.clientSecret,
    scope,
  }).toString();
  const what = `the token endpoint (${url.host}, tenant ${credentials.tenantId})`;
  let answer: unknown;
  try {
    answer = await call(
      client,
      url,
      what,
      { method: 'POST', body, headers: {}, type: 'application/x-www-form-urlencoded' },
      options,
    );
  } catch (error) {
    if (error instanceof SyncInputError && / answered 40[01]/.test(error.message)) {
      throw new SyncInputError(
        `${error.message}: check ${(from.env ?? CIPP_ENV).join(', ')} (the app's client ID and secret, and its tenant)`,
      );
    }
    throw error;
  }
  const token = (answer as { access_token?: unknown } | null)?.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new SyncInputError(`${what}: no access_token in the answer`);
  }
  return token;
}

/** An authorised GET whose answer must be a JSON list (of `noun`). */
async function getList(
  client: Client,
  url: URL,
  what: string,
  token: string,
  noun: string,
  options: ApiOptions,
): Promise<unknown[]> {
  const headers = { authorization: `Bearer ${token}` };
  const answer = await call(client, url, what, { method: 'GET', headers }, options);
  if (!Array.isArray(answer))
    throw new SyncInputError(`${what}: the answer is not a list of ${noun}`);
  return answer;
}

/** GET /api/ListTenants: each customer's tenant ID, name and default domain. */
async function listTenants(client: Client, base: URL, token: string, options: ApiOptions) {
  const url = new URL('api/ListTenants', base);
  const what = `CIPP ${url.pathname}`;
  const answer = await getList(client, url, what, token, 'tenants', options);
  return answer.map((t, i): CippTenant => {
    const { customerId, displayName, defaultDomainName } = (t ?? {}) as Record<string, unknown>;
    if (typeof customerId !== 'string' || !GUID.test(customerId)) {
      throw new SyncInputError(`${what}: tenant ${i + 1} has no customerId (a GUID)`);
    }
    return {
      id: customerId.toLowerCase(),
      name:
        typeof displayName === 'string' && displayName.trim() !== ''
          ? displayName.trim()
          : customerId,
      defaultDomain: typeof defaultDomainName === 'string' ? defaultDomainName.toLowerCase() : '',
    };
  });
}

/** GET /api/ListDomains: the customer's verified domains that are not its initial one. */
async function listDomains(
  client: Client,
  base: URL,
  token: string,
  tenant: CippTenant,
  options: ApiOptions,
) {
  const url = new URL('api/ListDomains', base);
  url.searchParams.set('tenantFilter', tenant.id);
  const what = `CIPP ${url.pathname} for ${tenant.name}`;
  const answer = await getList(client, url, what, token, 'domains', options);
  return answer.flatMap((d) => {
    const { id, isVerified, isInitial } = (d ?? {}) as Record<string, unknown>;
    if (typeof id !== 'string') throw new SyncInputError(`${what}: a domain has no id`);
    return isVerified === true && isInitial !== true ? [id.toLowerCase()] : [];
  });
}

/**
 * The customers CIPP lists whose domains are wanted (`take`: sync's selection, on the tenant's ID,
 * name and default domain), with their verified domains. Any failure fails the whole run.
 */
export async function customersFromCipp(
  client: Client,
  base: URL,
  credentials: Credentials,
  take: (tenant: CippTenant) => boolean,
  options: ApiOptions = {},
): Promise<Customer[]> {
  const token = await clientToken(
    client,
    credentials,
    `api://${credentials.clientId}/.default`,
    options,
  );
  const tenants = await listTenants(client, base, token, options);
  const customers: Customer[] = [];
  for (const tenant of tenants) {
    // Every customer is listed (for claims and --prune); only those taken are asked for domains.
    const domains = take(tenant)
      ? await listDomains(client, base, token, tenant, options)
      : [tenant.defaultDomain].filter(Boolean);
    customers.push({ id: tenant.id, name: tenant.name, domains, cloud: 'commercial' });
  }
  return customers;
}
