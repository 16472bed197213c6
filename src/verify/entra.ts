// Which Entra tenant owns a domain, from its OpenID Connect metadata: proves an Intune aadTenantId.
import { GUID } from '../config/checks.js';
import { type IntuneCloud, intuneCloudOf, SIGN_IN_HOSTS } from '../config/presets.js';
import { type Check, checker } from './checks.js';
import { type Client, describeError, fetchAnswer } from './fetch.js';

export type TenantLookup =
  | { readonly kind: 'found'; readonly tenantId: string }
  | { readonly kind: 'unknown-domain' }
  | { readonly kind: 'failed'; readonly reason: string };

const ISSUER =
  /^https:\/\/[^/]+\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/v2\.0\/?$/i;

/** The metadata URL of a domain in a cloud (docs/protocol.md section 6). */
export function metadataUrl(cloud: IntuneCloud, domain: string): URL {
  return new URL(
    `https://${SIGN_IN_HOSTS[cloud]}/${encodeURIComponent(domain)}/v2.0/.well-known/openid-configuration`,
  );
}

/**
 * `issuer` of the metadata names the tenant: `https://login.microsoftonline.com/<GUID>/v2.0`. A
 * domain no tenant has verified answers 400 with AADSTS90002. Anything else, or no answer, is a
 * failed lookup: never proof either way.
 */
export async function lookupTenant(
  client: Client,
  cloud: IntuneCloud,
  domain: string,
): Promise<TenantLookup> {
  let answer: Awaited<ReturnType<typeof fetchAnswer>>;
  try {
    answer = await fetchAnswer(client, metadataUrl(cloud, domain), 'GET');
  } catch (error) {
    return { kind: 'failed', reason: describeError(error) };
  }
  const text = answer.body.toString('utf8');
  if (answer.status === 400 && text.includes('AADSTS90002')) return { kind: 'unknown-domain' };
  if (answer.status !== 200)
    return { kind: 'failed', reason: `${answer.status} from ${SIGN_IN_HOSTS[cloud]}` };
  try {
    const issuer = (JSON.parse(text) as { issuer?: unknown }).issuer;
    const tenantId = typeof issuer === 'string' ? ISSUER.exec(issuer)?.[1] : undefined;
    if (tenantId !== undefined) return { kind: 'found', tenantId: tenantId.toLowerCase() };
  } catch {
    // Not JSON: a failed lookup, below.
  }
  return { kind: 'failed', reason: `no tenant in the metadata from ${SIGN_IN_HOSTS[cloud]}` };
}

/**
 * For an Intune BaseURL: does its aadTenantId own `domain`? A valid GUID of another tenant (or an
 * object or app ID) is the silent mistake no format check sees. Undefined for other BaseURLs.
 */
export async function tenantCheck(
  client: Client,
  baseUrl: string,
  domain: string,
): Promise<Check | undefined> {
  const url = new URL(baseUrl);
  const cloud = intuneCloudOf(url.hostname);
  const named = url.searchParams.get('aadTenantId')?.toLowerCase();
  if (cloud === undefined || named === undefined || !GUID.test(named)) return undefined;
  const proof = checker('baseurl', 'intune.tenant', 'Entra tenant');
  const found = await lookupTenant(client, cloud, domain);
  switch (found.kind) {
    case 'found':
      return found.tenantId === named
        ? proof.pass(`${named} is the Entra tenant of ${domain}`)
        : proof.fail(
            `the BaseURL names tenant ${named}; ${domain} belongs to tenant ${found.tenantId}`,
            `use aadTenantId=${found.tenantId} (Entra admin center > Overview > Tenant ID)`,
          );
    case 'unknown-domain':
      return proof.fail(
        `${domain} is not a verified domain of any Entra tenant (AADSTS90002)`,
        `add and verify ${domain} in Entra ID (Custom domain names), or check the users' domain`,
      );
    default:
      return proof.warn(
        `the tenant of ${domain} could not be looked up (${found.reason}); aadTenantId ${named} is unproven`,
        `let this machine reach ${SIGN_IN_HOSTS[cloud]}, or pass --no-tenant-check`,
      );
  }
}
