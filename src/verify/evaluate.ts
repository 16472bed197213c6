// Pure judgements of one discovery answer: status, Content-Type, challenge pages, body, caching.
import { checkHttpsUrl, checkIntuneUrl, repeatedSuffix } from '../config/checks.js';
import { findPlaceholder } from '../config/placeholders.js';
import { INTUNE_HOSTS, INTUNE_PATH } from '../config/presets.js';
import { WELL_KNOWN_FAILED } from '../protocol.js';
import { type Check, check } from './checks.js';

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
  if (s === 200)
    return check({ section, id: 'http.status', label: 'status', verdict: 'pass', detail: '200' });
  if (s === 403) {
    const failed = wellKnownFailed(answer.body);
    if (failed !== undefined) {
      return check({
        section,
        id: 'http.status',
        label: 'status',
        verdict: 'warn',
        detail: `403 com.apple.well-known.failed: the device shows "${String(failed.message ?? '')}"`,
        fix: "intended? This refuses enrollment on purpose; systems before iOS 17.5 / macOS 14.5 show a generic error instead of the message, and iOS 18.2 / macOS 15.2 and later probably fall back to Apple's discovery and may never show it (inferred from device code)",
      });
    }
    return check({
      section,
      id: 'http.status',
      label: 'status',
      verdict: 'fail',
      detail: `403 Forbidden without ${WELL_KNOWN_FAILED}`,
      fix: 'let the path through to the discovery answer (a WAF or access rule refuses it)',
    });
  }
  if (s === 404) {
    return check({
      section,
      id: 'http.status',
      label: 'status',
      verdict: 'fail',
      detail:
        '404 Not Found: only iOS 18.2, macOS 15.2, visionOS 2.2 and later fall back to the discovery URL in Apple Business Manager; older devices stop here',
      fix: 'publish the discovery answer at /.well-known/com.apple.remotemanagement on this host',
    });
  }
  return check({
    section,
    id: 'http.status',
    label: 'status',
    verdict: 'fail',
    detail: `${s}`,
    fix: 'answer 200 with the discovery JSON',
  });
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
    return check({
      section,
      id: 'http.challenge',
      label: 'challenge',
      verdict: 'fail',
      detail: 'a Cloudflare bot challenge (cf-mitigated: challenge): a device cannot solve it',
      fix: 'skip bot protection and caching for /.well-known/com.apple.remotemanagement',
    });
  }
  const type = header(answer, 'content-type')?.toLowerCase() ?? '';
  const start = answer.body.subarray(0, 200).toString('utf8').trimStart().toLowerCase();
  if (
    type.startsWith('text/html') ||
    start.startsWith('<!doctype html') ||
    start.startsWith('<html')
  ) {
    return check({
      section,
      id: 'http.challenge',
      label: 'challenge',
      verdict: 'fail',
      detail: 'an HTML page (a CDN or WAF challenge, a login or an error page) instead of JSON',
      fix: 'route the path to the discovery answer and exempt it from bot protection, sign-in and caching',
    });
  }
  return undefined;
}

export function contentTypeCheck(section: string, answer: Answer): Check {
  const raw = header(answer, 'content-type');
  if (raw === undefined) {
    return check({
      section,
      id: 'http.content-type',
      label: 'content-type',
      verdict: 'fail',
      detail: 'missing',
      fix: 'send Content-Type: application/json',
    });
  }
  const [media = '', ...params] = raw.split(';').map((p) => p.trim());
  if (media.toLowerCase() !== 'application/json') {
    return check({
      section,
      id: 'http.content-type',
      label: 'content-type',
      verdict: 'fail',
      detail: `${raw}: the device wants application/json`,
      fix: 'send Content-Type: application/json (static hosts such as GitHub Pages and S3 serve an extensionless file as application/octet-stream)',
    });
  }
  if (params.length > 0) {
    return check({
      section,
      id: 'http.content-type',
      label: 'content-type',
      verdict: 'warn',
      detail: `${raw}: has a parameter; Microsoft's check compares the exact string`,
      fix: 'send exactly Content-Type: application/json',
    });
  }
  return check({
    section,
    id: 'http.content-type',
    label: 'content-type',
    verdict: 'pass',
    detail: raw,
  });
}

/** The JSON body: byte order mark, syntax, Servers, Version, BaseURL, placeholders, Intune. */
export function bodyChecks(
  section: string,
  answer: Answer,
): { checks: Check[]; server?: ServerEntry } {
  const checks: Check[] = [];
  const add = (
    id: string,
    label: string,
    verdict: 'pass' | 'warn' | 'fail',
    detail: string,
    fix?: string,
  ) => checks.push(check({ section, id, label, verdict, detail, fix }));
  let bytes = answer.body;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    add(
      'body.bom',
      'byte order mark',
      'fail',
      'the body starts with a UTF-8 byte order mark',
      'save the file as UTF-8 without a BOM',
    );
    bytes = bytes.subarray(3);
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    add(
      'body.json',
      'JSON',
      'fail',
      `not valid JSON (${(error as Error).message})`,
      'fix the JSON: no comments, no trailing commas, double quotes',
    );
    return { checks };
  }
  const servers = (json as { Servers?: unknown } | null)?.Servers;
  if (!Array.isArray(servers)) {
    const lower = json !== null && typeof json === 'object' && 'servers' in json;
    add(
      'body.servers',
      'Servers',
      'fail',
      lower ? '"servers" is spelled in lower case' : 'no "Servers" array',
      'answer {"Servers":[{"Version":"mdm-byod","BaseURL":"https://…"}]}; keys are case-sensitive',
    );
    return { checks };
  }
  if (servers.length === 0) {
    add('body.servers', 'Servers', 'fail', 'the Servers array is empty', 'list exactly one server');
    return { checks };
  }
  if (servers.length > 1) {
    add(
      'body.servers',
      'Servers',
      'warn',
      `${servers.length} entries: the device reads only the first`,
      'answer exactly one server (route per request instead: see the README)',
    );
  } else {
    add('body.servers', 'Servers', 'pass', 'exactly one entry');
  }
  const first = servers[0] as { Version?: unknown; BaseURL?: unknown } | null;
  const version = first?.Version;
  if (version === 'mdm-byod' || version === 'mdm-adde') {
    add('body.version', 'Version', 'pass', version);
  } else {
    add(
      'body.version',
      'Version',
      'fail',
      version === undefined ? 'missing' : `${JSON.stringify(version)} is not a Version`,
      'use "mdm-byod" (User Enrollment) or "mdm-adde" (Device Enrollment)',
    );
  }
  const baseUrl = first?.BaseURL;
  if (typeof baseUrl !== 'string') {
    add(
      'body.base-url',
      'BaseURL',
      'fail',
      baseUrl === undefined ? 'missing' : 'not a string',
      'give the BaseURL your MDM console shows',
    );
    return { checks };
  }
  const placeholder = findPlaceholder(baseUrl);
  const url = checkHttpsUrl(baseUrl, { query: true });
  if (placeholder !== undefined) {
    add(
      'body.base-url',
      'BaseURL',
      'fail',
      `${baseUrl} still holds the placeholder "${placeholder}"`,
      'replace it with the real value (for Intune: your Entra tenant ID)',
    );
  } else if ('error' in url) {
    add('body.base-url', 'BaseURL', 'fail', url.error, 'publish an absolute https BaseURL');
  } else {
    const host = new URL(baseUrl).hostname;
    const doubled = repeatedSuffix(host);
    if (doubled)
      add(
        'body.base-url',
        'BaseURL',
        'warn',
        `${baseUrl}: the host repeats its last label`,
        `did you mean ${doubled}?`,
      );
    else add('body.base-url', 'BaseURL', 'pass', baseUrl);
    checks.push(...intuneChecks(section, new URL(baseUrl)));
  }
  const probe = !checks.some((c) => c.verdict === 'fail');
  return { checks, server: typeof version === 'string' ? { version, baseUrl, probe } : undefined };
}

function intuneChecks(section: string, url: URL): Check[] {
  const facts = checkIntuneUrl(url);
  if (facts === undefined) {
    return /(^|\.)manage\.microsoft\./.test(url.hostname)
      ? [
          intune(
            section,
            'fail',
            `${url.hostname} is not an Intune enrollment host`,
            `use ${Object.values(INTUNE_HOSTS).join(', ')} for commercial, US Government, 21Vianet`,
          ),
        ]
      : [];
  }
  const out: Check[] = [];
  if (facts.badPath !== undefined)
    out.push(intune(section, 'fail', `path ${facts.badPath}`, `Intune's path is ${INTUNE_PATH}`));
  if (facts.badTenantId !== undefined) {
    out.push(
      intune(
        section,
        'fail',
        `aadTenantId=${facts.badTenantId ?? '(missing)'} is not a GUID`,
        'use your Entra tenant ID (Entra admin center > Overview > Tenant ID)',
      ),
    );
  }
  if (out.length === 0)
    out.push(
      intune(section, 'pass', `${url.hostname}, tenant ${url.searchParams.get('aadTenantId')}`),
    );
  return out;
}

function intune(section: string, verdict: 'pass' | 'fail', detail: string, fix?: string): Check {
  return check({ section, id: 'body.intune', label: 'Intune', verdict, detail, fix });
}

/** Whether a shared cache (a CDN) may keep an answer that depends on the query. */
export function cacheCheck(section: string, answer: Answer): Check {
  const control = header(answer, 'cache-control')?.toLowerCase() ?? '';
  const age = header(answer, 'age');
  const fix = 'send Cache-Control: no-store (the answer depends on the query)';
  if (age !== undefined) {
    return check({
      section,
      id: 'http.cache',
      label: 'caching',
      verdict: 'warn',
      detail: `served from a cache (Age: ${age})`,
      fix,
    });
  }
  if (/\bno-store\b|\bprivate\b/.test(control))
    return check({ section, id: 'http.cache', label: 'caching', verdict: 'pass', detail: control });
  const shared = /\bs-maxage=(\d+)/.exec(control) ?? /\bmax-age=(\d+)/.exec(control);
  if (
    /\bpublic\b/.test(control) ||
    (shared && Number(shared[1]) > 0 && !/\bno-cache\b/.test(control))
  ) {
    return check({
      section,
      id: 'http.cache',
      label: 'caching',
      verdict: 'warn',
      detail: `Cache-Control: ${control}: a shared cache may keep this answer`,
      fix,
    });
  }
  if (
    control === '' &&
    (header(answer, 'expires') !== undefined || header(answer, 'last-modified') !== undefined)
  ) {
    return check({
      section,
      id: 'http.cache',
      label: 'caching',
      verdict: 'warn',
      detail: 'no Cache-Control, but Expires or Last-Modified: caches may keep it',
      fix,
    });
  }
  return check({
    section,
    id: 'http.cache',
    label: 'caching',
    verdict: 'pass',
    detail: control === '' ? 'no caching headers' : control,
  });
}
