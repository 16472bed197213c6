// Host names: turning a Host header or a configured domain into the one form the routing table uses.
import { domainToASCII, domainToUnicode } from 'node:url';
import { remember } from '../remember.js';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const PLAIN_HOST = /^[a-z0-9.-]+$/;

/**
 * Lower-case ASCII (punycode) form of a DNS name, or undefined when it is not a valid
 * fully qualified name. A single trailing dot is dropped: `contoso.com.` is `contoso.com`.
 */
export function toAsciiDomain(name: string): string | undefined {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed.length === 0) return undefined;
  const lower = trimmed.toLowerCase();
  // domainToASCII applies UTS #46 (what browsers do); it returns '' for names it cannot map.
  const ascii = PLAIN_HOST.test(lower) ? lower : domainToASCII(lower);
  if (ascii.length === 0 || ascii.length > 253) return undefined;
  const labels = ascii.split('.');
  if (labels.length < 2) return undefined;
  for (const label of labels) {
    if (!LABEL.test(label)) return undefined;
  }
  // A name whose last label is all digits is an IPv4 literal, not a domain.
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return undefined;
  return ascii;
}

/**
 * The routing key for a Host header: lower-cased, port and trailing dot removed, Unicode to
 * punycode. Returns undefined for anything that cannot be a configured domain (IP literals,
 * empty, malformed), which the caller treats as an unknown host. Only what a browser or a device
 * sends is accepted: letters, digits, hyphens and dots, or a Unicode name already in the form
 * IDNA maps it to. Percent-escapes (`%63ontoso.example`), characters that IDNA maps away (a soft
 * hyphen, fullwidth letters) and ports outside 1-65535 are refused, so that no second spelling of
 * a configured domain reaches its tenant.
 */
export function hostKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  // Most requests name one of a few hosts: their keys are remembered (null for none).
  return (
    remember(rememberedKeys, header, () => readHostKey(header) ?? null, REMEMBERED_KEYS) ??
    undefined
  );
}

const rememberedKeys = new Map<string, string | null>();
const REMEMBERED_KEYS = 1024;

function readHostKey(header: string): string | undefined {
  if (header.length === 0 || header.length > 300) return undefined;
  // IPv6 literals ("[::1]:8080") are never configured domains.
  if (header.charCodeAt(0) === 91 /* [ */) return undefined;
  const colon = header.indexOf(':');
  let name = colon === -1 ? header : header.slice(0, colon);
  if (colon !== -1) {
    const port = header.slice(colon + 1);
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) === 0 || Number(port) > 65535) return undefined;
  }
  if (PLAIN_HOST.test(name.toLowerCase())) return toAsciiDomain(name);
  if (isAscii(name)) return undefined;
  // Node decodes header bytes as latin1; a client that sent UTF-8 bytes is read back as UTF-8.
  if (allBelow(name, 0x100)) {
    const utf8 = Buffer.from(name, 'latin1').toString('utf8');
    if (!utf8.includes('\uFFFD')) name = utf8;
  }
  const ascii = toAsciiDomain(name);
  if (ascii === undefined) return undefined;
  const written = (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
  return domainToUnicode(ascii) === written ? ascii : undefined;
}

export function isAscii(text: string): boolean {
  return allBelow(text, 0x80);
}

function allBelow(text: string, limit: number): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= limit) return false;
  }
  return true;
}

/**
 * The first result of `lookup` over the domains above `host`, nearest first: for
 * `a.b.contoso.com`, `b.contoso.com`, then `contoso.com`, then `com`. How `*.` wildcards match.
 */
export function nearestParent<T>(
  host: string,
  lookup: (parent: string) => T | undefined,
): T | undefined {
  for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
    const found = lookup(host.slice(dot + 1));
    if (found !== undefined) return found;
  }
  return undefined;
}
