// Pure judgements of one discovery answer: status, Content-Type, challenge pages, body, caching.
import { checkHttpsUrl, checkIntuneUrl, repeatedSuffix } from '../config/checks.js';
import { findPlaceholder } from '../config/placeholders.js';
import { INTUNE_HOSTS, INTUNE_PATH } from '../config/presets.js';
import { baseUrlFindings, describeVendor, vendorOf } from '../config/vendors.js';
import { WELL_KNOWN_FAILED } from '../protocol.js';
import { type Check, type Checker, checker } from './checks.js';

export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface ServerEntry {
  readonly version: string;
  readonly baseUrl: string;
  /**
   * Whether the BaseURL passed its checks and may be probed. One with a placeholder, plain http or
   * a wrong Intune URL is never contacted: it would only send a request somewhere unintended.
   */
  readonly probe: boolean;
}

export function header(answer: Answer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The answer's status as a device would take it. */
export function statusCheck(section: string, answer: Answer): Check {
  const s = answer.status;
  if (s === 200) return checker(section, 'http.status', 'status').pass('200');
  if (s === 403) {
    const failed = wellKnownFailed(answer.body);
    if (failed !== undefined) {
      return checker(section, 'http.status', 'status').warn(
        `403 com.apple.well-known.failed: the device shows "${String(failed.message ?? '')}"`,
        "intended? This refuses enrollment on purpose; systems before iOS 17.5 / macOS 14.5 show a generic error instead of the message, and iOS 18.2 / macOS 15.2 and later probably fall back to Apple's discovery and may never show it (inferred from device code)",
      );
    }
    return checker(section, 'http.status', 'status').fail(
      `403 Forbidden without ${WELL_KNOWN_FAILED}`,
      'let the path through to the discovery answer (a WAF or access rule refuses it)',
    );
  }
  if (s === 404) {
    return checker(section, 'http.status', 'status').fail(
      '404 Not Found: only iOS 18.2, macOS 15.2, visionOS 2.2 and later fall back to the discovery URL in Apple Business Manager; older devices stop here',
      'publish the discovery answer at /.well-known/com.apple.remotemanagement on this host',
    );
  }
  return checker(section, 'http.status', 'status').fail(
    `${s}`,
    'answer 200 with the discovery JSON',
  );
}

/** A 403 body of Apple's com.apple.well-known.failed, or undefined for anything else. */
export function wellKnownFailed(body: Buffer): { readonly message?: unknown } | undefined {
  try {
    const json = JSON.parse(body.toString('utf8')) as { code?: unknown; message?: unknown };
    return json.code === WELL_KNOWN_FAILED ? json : undefined;
  } catch {
    return undefined;
  }
}

/** A CDN or WAF challenge, or any HTML page, where JSON should be. */
export function challengeCheck(section: string, answer: Answer): Check | undefined {
  if (header(answer, 'cf-mitigated')?.toLowerCase() === 'challenge') {
    return checker(section, 'http.challenge', 'challenge').fail(
      'a Cloudflare bot challenge (cf-mitigated: challenge): a device cannot solve it',
      'skip bot protection and caching for /.well-known/com.apple.remotemanagement',
    );
  }
  const type = header(answer, 'content-type')?.toLowerCase() ?? '';
  const start = answer.body.subarray(0, 200).toString('utf8').trimStart().toLowerCase();
  if (
    type.startsWith('text/html') ||
    start.startsWith('<!doctype html') ||
    start.startsWith('<html')
  ) {
    return checker(section, 'http.challenge', 'challenge').fail(
      'an HTML page (a CDN or WAF challenge, a login or an error page) instead of JSON',
      'route the path to the discovery answer and exempt it from bot protection, sign-in and caching',
    );
  }
  return undefined;
}

export function contentTypeCheck(section: string, answer: Answer): Check {
  const raw = header(answer, 'content-type');
  if (raw === undefined) {
    return checker(section, 'http.content-type', 'content-type').fail(
      'missing',
      'send Content-Type: application/json',
    );
  }
  const [media = '', ...params] = raw.split(';').map((p) => p.trim());
  if (media.toLowerCase() !== 'application/json') {
    return checker(section, 'http.content-type', 'content-type').fail(
      `${raw}: the device wants application/json`,
      'send Content-Type: application/json (static hosts such as GitHub Pages and S3 serve an extensionless file as application/octet-stream)',
    );
  }
  if (params.length > 0) {
    return checker(section, 'http.content-type', 'content-type').warn(
      `${raw}: has a parameter; Microsoft's check compares the exact string`,
      'send exactly Content-Type: application/json',
    );
  }
  return checker(section, 'http.content-type', 'content-type').pass(raw);
}

/**
 * The JSON body: byte order mark, syntax, Servers, Version, BaseURL, placeholders, Intune, the
 * vendor behind the BaseURL (`discoveryHost`: the host the device asked first).
 */
export function bodyChecks(
  section: string,
  answer: Answer,
  discoveryHost?: string,
): { checks: Check[]; server?: ServerEntry } {
  const checks: Check[] = [];
  const at = (id: string, label: string) => checker(section, id, label);
  let bytes = answer.body;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    checks.push(
      at('body.bom', 'byte order mark').fail(
        'the body starts with a UTF-8 byte order mark',
        'save the file as UTF-8 without a BOM',
      ),
    );
    bytes = bytes.subarray(3);
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    checks.push(
      at('body.json', 'JSON').fail(
        `not valid JSON (${(error as Error).message})`,
        'fix the JSON: no comments, no trailing commas, double quotes',
      ),
    );
    return { checks };
  }
  const servers = (json as { Servers?: unknown } | null)?.Servers;
  if (!Array.isArray(servers)) {
    const lower = json !== null && typeof json === 'object' && 'servers' in json;
    checks.push(
      at('body.servers', 'Servers').fail(
        lower ? '"servers" is spelled in lower case' : 'no "Servers" array',
        'answer {"Servers":[{"Version":"mdm-byod","BaseURL":"https://…"}]}; keys are case-sensitive',
      ),
    );
    return { checks };
  }
  if (servers.length === 0) {
    checks.push(
      at('body.servers', 'Servers').fail('the Servers array is empty', 'list exactly one server'),
    );
    return { checks };
  }
  if (servers.length > 1) {
    checks.push(
      at('body.servers', 'Servers').warn(
        `${servers.length} entries: the device reads only the first`,
        'answer exactly one server (route per request instead: see the README)',
      ),
    );
  } else {
    checks.push(at('body.servers', 'Servers').pass('exactly one entry'));
  }
  const first = servers[0] as { Version?: unknown; BaseURL?: unknown } | null;
  const version = first?.Version;
  if (version === 'mdm-byod' || version === 'mdm-adde') {
    checks.push(at('body.version', 'Version').pass(version));
  } else {
    checks.push(
      at('body.version', 'Version').fail(
        version === undefined ? 'missing' : `${JSON.stringify(version)} is not a Version`,
        'use "mdm-byod" (User Enrollment) or "mdm-adde" (Device Enrollment)',
      ),
    );
  }
  const baseUrl = first?.BaseURL;
  if (typeof baseUrl !== 'string') {
    checks.push(
      at('body.base-url', 'BaseURL').fail(
        baseUrl === undefined ? 'missing' : 'not a string',
        'give the BaseURL your MDM console shows',
      ),
    );
    return { checks };
  }
  const placeholder = findPlaceholder(baseUrl);
  const url = checkHttpsUrl(baseUrl, { query: true });
  if (placeholder !== undefined) {
    checks.push(
      at('body.base-url', 'BaseURL').fail(
        `${baseUrl} still holds the placeholder "${placeholder}"`,
        'replace it with the real value (for Intune: your Entra tenant ID)',
      ),
    );
  } else if ('error' in url) {
    checks.push(
      at('body.base-url', 'BaseURL').fail(url.error, 'publish an absolute https BaseURL'),
    );
  } else {
    const host = new URL(baseUrl).hostname;
    const doubled = repeatedSuffix(host);
    if (doubled)
      checks.push(
        at('body.base-url', 'BaseURL').warn(
          `${baseUrl}: the host repeats its last label`,
          `did you mean ${doubled}?`,
        ),
      );
    else checks.push(at('body.base-url', 'BaseURL').pass(baseUrl));
    checks.push(...vendorChecks(section, new URL(baseUrl), version, discoveryHost));
  }
  const probe = !checks.some((c) => c.verdict === 'fail');
  return { checks, server: typeof version === 'string' ? { version, baseUrl, probe } : undefined };
}

/** Which MDM the BaseURL's shape names, what fits it, then Intune's own checks. */
function vendorChecks(
  section: string,
  url: URL,
  version: unknown,
  discoveryHost: string | undefined,
): Check[] {
  const out: Check[] = [];
  const shape = vendorOf(url);
  const vendor = checker(section, 'body.vendor', 'MDM');
  out.push(
    shape
      ? vendor.info(describeVendor(shape))
      : vendor.info(`${url.hostname}: not a shape this tool knows (docs/protocol.md section 7)`),
  );
  const findings = baseUrlFindings(url, String(version), discoveryHost);
  for (const f of findings) {
    const check = checker(section, f.id, 'BaseURL');
    out.push(f.verdict === 'fail' ? check.fail(f.detail, f.fix) : check.warn(f.detail, f.fix));
  }
  // A known wrong host is named above; Intune's "not an Intune host" would only repeat it.
  if (!findings.some((f) => f.id === 'baseurl.wrong-host')) out.push(...intuneChecks(section, url));
  return out;
}

function intuneChecks(section: string, url: URL): Check[] {
  const facts = checkIntuneUrl(url);
  if (facts === undefined) {
    return /(^|\.)manage\.microsoft\./.test(url.hostname)
      ? [
          intune(section).fail(
            `${url.hostname} is not an Intune enrollment host`,
            `use ${Object.values(INTUNE_HOSTS).join(', ')} for commercial, US Government, 21Vianet`,
          ),
        ]
      : [];
  }
  const out: Check[] = [];
  if (facts.badPath !== undefined)
    out.push(intune(section).fail(`path ${facts.badPath}`, `Intune's path is ${INTUNE_PATH}`));
  if (facts.badTenantId !== undefined) {
    out.push(
      intune(section).fail(
        `aadTenantId=${facts.badTenantId ?? '(missing)'} is not a GUID`,
        'use your Entra tenant ID (Entra admin center > Overview > Tenant ID)',
      ),
    );
  }
  if (out.length === 0)
    out.push(
      intune(section).pass(`${url.hostname}, tenant ${url.searchParams.get('aadTenantId')}`),
    );
  return out;
}

function intune(section: string): Checker {
  return checker(section, 'body.intune', 'Intune');
}

/** Whether a shared cache (a CDN) may keep an answer that depends on the query. */
export function cacheCheck(section: string, answer: Answer): Check {
  const control = header(answer, 'cache-control')?.toLowerCase() ?? '';
  const age = header(answer, 'age');
  const fix = 'send Cache-Control: no-store (the answer depends on the query)';
  if (age !== undefined) {
    return checker(section, 'http.cache', 'caching').warn(`served from a cache (Age: ${age})`, fix);
  }
  if (/\bno-store\b|\bprivate\b/.test(control))
    return checker(section, 'http.cache', 'caching').pass(control);
  const shared = /\bs-maxage=(\d+)/.exec(control) ?? /\bmax-age=(\d+)/.exec(control);
  if (
    /\bpublic\b/.test(control) ||
    (shared && Number(shared[1]) > 0 && !/\bno-cache\b/.test(control))
  ) {
    return checker(section, 'http.cache', 'caching').warn(
      `Cache-Control: ${control}: a shared cache may keep this answer`,
      fix,
    );
  }
  if (
    control === '' &&
    (header(answer, 'expires') !== undefined || header(answer, 'last-modified') !== undefined)
  ) {
    return checker(section, 'http.cache', 'caching').warn(
      'no Cache-Control, but Expires or Last-Modified: caches may keep it',
      fix,
    );
  }
  return checker(section, 'http.cache', 'caching').pass(
    control === '' ? 'no caching headers' : control,
  );
}
