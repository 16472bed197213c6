// Field checks shared by the config schema and the CLI: domains, https URLs, GUIDs.
import { toAsciiDomain } from '../discovery/host.js';
import { appleReservedDomain, appleReservedMessage } from '../protocol.js';
import { INTUNE_HOSTS, INTUNE_PATH } from './presets.js';

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type Checked = { readonly value: string } | { readonly error: string };

/**
 * A configured domain: `contoso.com` or `*.contoso.com`. Harmless differences are normalised
 * (case, a trailing dot, Unicode to punycode); anything else is refused with the fix.
 */
export function checkDomain(raw: string): Checked {
  if (raw.trim() !== raw) {
    const where = raw.trimStart() !== raw ? 'leading' : 'trailing';
    return { error: `"${raw}" has ${where} whitespace; write "${raw.trim()}"` };
  }
  if (/\s/.test(raw)) return { error: `"${raw}" contains whitespace; a domain has none` };
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(raw);
  if (scheme) {
    const rest = raw.slice(scheme[0].length).split(/[/:?#]/)[0] ?? '';
    return { error: `"${raw}" has a scheme; write only the domain "${rest}"` };
  }
  if (raw.includes('@')) {
    const domain = raw.slice(raw.lastIndexOf('@') + 1);
    return { error: `"${raw}" is an e-mail address; write its domain "${domain}"` };
  }
  if (/[/?#]/.test(raw)) {
    return {
      error: `"${raw}" has a path; write only the domain "${raw.split(/[/?#]/)[0]}" (the service answers /.well-known/com.apple.remotemanagement itself)`,
    };
  }
  if (/:[0-9]*$/.test(raw)) {
    return {
      error: `"${raw}" has a port; devices always ask on https port 443, so write "${raw.replace(/:[0-9]*$/, '')}"`,
    };
  }
  const wildcard = raw.startsWith('*.');
  const name = wildcard ? raw.slice(2) : raw;
  if (name.includes('*')) {
    return { error: `"${raw}" has a "*" inside; only a leading "*." wildcard is supported` };
  }
  const ascii = toAsciiDomain(name);
  if (ascii === undefined) {
    return {
      error: `"${raw}" is not a valid domain name: it needs two or more labels of 1-63 letters, digits or hyphens (not at either end of a label)`,
    };
  }
  const reserved = appleReservedDomain(ascii);
  if (reserved !== undefined) return { error: appleReservedMessage(raw, reserved) };
  return { value: wildcard ? `*.${ascii}` : ascii };
}

export interface UrlRules {
  /** Whether a query string is allowed (a generic BaseURL may carry one; a preset host may not). */
  readonly query: boolean;
}

/**
 * An absolute https URL that an Apple device can be sent to. Every defect is named at once, with
 * the corrected URL as the fix.
 */
export function checkHttpsUrl(raw: string, rules: UrlRules): Checked {
  if (/\s/.test(raw)) return { error: `"${raw}" contains whitespace; remove it` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { error: `"${raw}" is not an absolute URL; write it as https://host/path` };
  }
  const defects: string[] = [];
  if (url.protocol !== 'https:') {
    defects.push('must use https (Apple devices enroll only over TLS)');
    url = new URL(`https://${raw.replace(/^[a-z][a-z0-9+.-]*:(\/\/)?/i, '')}`);
  }
  if (url.username !== '' || url.password !== '') {
    defects.push('must not contain credentials');
    url.username = '';
    url.password = '';
  }
  if (raw.includes('#')) {
    defects.push('must not have a fragment');
    url.hash = '';
  }
  if (!rules.query && url.search !== '') {
    defects.push('must not have a query string');
    url.search = '';
  }
  if (/[^\x21-\x7e]/.test(raw)) defects.push('must be written in ASCII');
  if (toAsciiDomain(url.hostname) === undefined) {
    return { error: `"${raw}" has a host "${url.hostname}" that is not a valid domain name` };
  }
  if (defects.length > 0) return { error: `"${raw}" ${defects.join(', ')}; write "${url.href}"` };
  return { value: raw };
}

/** A host that repeats its last label (`jamfcloud.com.com`) is almost always a typing mistake. */
export function repeatedSuffix(hostname: string): string | undefined {
  const labels = hostname.split('.');
  const last = labels[labels.length - 1];
  if (labels.length >= 3 && last !== undefined && labels[labels.length - 2] === last) {
    return labels.slice(0, -1).join('.');
  }
  return undefined;
}

export interface IntuneUrlFacts {
  /** The path, when it is not Intune's enrollment path. */
  readonly badPath?: string;
  /** The aadTenantId value (null when missing), when it is not a GUID. */
  readonly badTenantId?: string | null;
}

/**
 * What is wrong with a BaseURL on an Intune host (nothing: `{}`), or undefined for a URL that is
 * not on an Intune host. Used for hand-written config and for live answers alike.
 */
export function checkIntuneUrl(url: URL): IntuneUrlFacts | undefined {
  if (!(Object.values(INTUNE_HOSTS) as string[]).includes(url.hostname)) return undefined;
  const tenantId = url.searchParams.get('aadTenantId');
  return {
    ...(url.pathname === INTUNE_PATH ? {} : { badPath: url.pathname }),
    ...(tenantId !== null && GUID.test(tenantId) ? {} : { badTenantId: tenantId }),
  };
}
