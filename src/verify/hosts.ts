// The TLS of every other host a device connects to: each redirect hop's and each BaseURL's, judged
// as the discovery host is (Apple's TLS notice covers the enrollment too: docs/protocol.md section 7).
// verify and the watcher's deep rounds read it.
import { type Check, check, checker, unresolved } from './checks.js';
import { blockedAddress, type NetOptions, probeTls, resolveHost } from './net.js';
import { judgeTlsOf } from './tls.js';

export interface HostTls {
  readonly host: string;
  readonly port: number;
  readonly section: string;
  readonly checks: readonly Check[];
  /** When its certificate expires (Unix seconds), when a handshake told. */
  readonly expiry?: number;
}

/**
 * Each distinct https origin of `urls` but the target's, once, in the section of its first URL.
 * A host on a private address is not contacted (as for the BaseURL probe) unless --allow-private
 * or a --resolve entry names it.
 */
export async function judgeHosts(
  options: NetOptions,
  target: URL,
  urls: readonly { readonly url: URL; readonly section: string }[],
  now: Date,
): Promise<HostTls[]> {
  const origin = (url: URL) => `${url.hostname}:${Number(url.port) || 443}`;
  const hosts = new Map<string, { host: string; port: number; section: string }>();
  for (const { url, section } of urls) {
    const key = origin(url);
    if (url.protocol !== 'https:' || key === origin(target) || hosts.has(key)) continue;
    hosts.set(key, { host: url.hostname, port: Number(url.port) || 443, section });
  }
  const out: HostTls[] = [];
  for (const { host, port, section } of hosts.values()) {
    const at = { host, port, section };
    const dns = await resolveHost(options, host, port);
    const address = dns.addresses[0];
    if (address === undefined) {
      out.push({ ...at, checks: [check({ ...unresolved(host, dns.error), section })] });
      continue;
    }
    const blocked = blockedAddress(options, dns.addresses, dns.via === '--resolve');
    if (blocked !== undefined) {
      const skipped = checker(section, 'tls.not-checked', 'TLS').info(
        `${host}: not checked, it is at ${blocked}, a private address (pass --allow-private to allow it)`,
      );
      out.push({ ...at, checks: [skipped] });
      continue;
    }
    const tls = await probeTls(options, host, port, address);
    out.push({
      ...at,
      checks: judgeTlsOf(tls, host, now, section),
      ...(tls.validTo === undefined ? {} : { expiry: Math.floor(tls.validTo.getTime() / 1000) }),
    });
  }
  return out;
}
