// IP addresses as the service decides on them: which are loopback, and which client a rate limit counts.
import { isIPv4 } from 'node:net';

/** IPv6 clients are counted by this many leading bits of their address unless set otherwise. */
export const DEFAULT_IPV6_PREFIX = 64;

/** `::ffff:192.0.2.1` → `192.0.2.1`; any other text as it is. */
function unmapped(address: string): string {
  if (address.length > 7 && address.slice(0, 7).toLowerCase() === '::ffff:') {
    const v4 = address.slice(7);
    if (isIPv4(v4)) return v4;
  }
  return address;
}

/**
 * Whether an address (as `server.address()` or a socket gives it) is reachable from this machine
 * only: 127.0.0.0/8 or ::1, IPv4-mapped included. Decided on the address a listener is bound to,
 * never on the text it was asked to listen on (`127.attacker.example` is a name, not 127/8).
 */
export function isLoopbackAddress(address: string): boolean {
  const plain = unmapped(address);
  if (isIPv4(plain)) return plain.startsWith('127.');
  const groups = ipv6Groups(plain);
  return groups?.every((g, i) => g === (i === 7 ? 1 : 0)) === true;
}

/** A zone index (`%eth0`), as net.isIPv6 allows one. */
const ZONE = /^[0-9a-zA-Z.:-]+$/;

/** The value of a hexadecimal digit's character code, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1; // a-f, A-F
}

/**
 * The eight 16-bit groups of an IPv6 address (`::` shorthand, an embedded IPv4 tail and a `%zone`
 * allowed), or undefined for any text that is not one: what `net.isIPv6` accepts, read in one
 * pass without a regular expression (the rate limit reads every IPv6 client's address; a
 * property test holds it to `isIPv6` and Node's own URL parser, test/http/rate-limit.test.ts).
 */
// biome-ignore lint/complexity/noExcessiveCognitiveComplexity: a one-pass parser of IPv6 text, held to net.isIPv6 by a property test
export function ipv6Groups(address: string): number[] | undefined {
  const zone = address.indexOf('%');
  if (zone !== -1 && !ZONE.test(address.slice(zone + 1))) return undefined;
  const end = zone === -1 ? address.length : zone;
  const groups: number[] = [];
  // Where `::` stands among the groups, if it does.
  let gap = -1;
  let i = 0;
  if (address.charCodeAt(0) === 58 /* : */) {
    if (address.charCodeAt(1) !== 58) return undefined;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    let value = 0;
    let j = i;
    for (let digit = hexDigit(address.charCodeAt(j)); j < end && digit >= 0; ) {
      value = value * 16 + digit;
      digit = hexDigit(address.charCodeAt(++j));
    }
    if (j < end && address.charCodeAt(j) === 46 /* . */) {
      // An IPv4 tail (`::ffff:192.0.2.1`) stands for the last two groups.
      const v4 = address.slice(i, end);
      if (groups.length > 6 || !isIPv4(v4)) return undefined;
      const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
      groups.push((a << 8) | b, (c << 8) | d);
      break;
    }
    if (j === i || j - i > 4) return undefined;
    groups.push(value);
    if (j === end) break;
    if (address.charCodeAt(j) !== 58) return undefined;
    if (address.charCodeAt(j + 1) === 58 && j + 1 < end) {
      if (gap !== -1) return undefined;
      gap = groups.length;
      i = j + 2;
    } else {
      if (j + 1 === end) return undefined;
      i = j + 1;
    }
  }
  if (gap === -1) return groups.length === 8 ? groups : undefined;
  if (groups.length > 7) return undefined;
  groups.splice(gap, 0, ...new Array<number>(8 - groups.length).fill(0));
  return groups;
}

/**
 * The client a per-client limit counts for an address: an IPv4 address (mapped or not) is one
 * client; an IPv6 address counts by its first `ipv6Prefix` bits (a /64 is one host's or one
 * network's, and an attacker holding one has 2^64 addresses to spare). Text that is no address
 * counts as itself.
 */
export function clientKey(address: string, ipv6Prefix: number): string {
  // IPv4, the common case, without parsing: no colon.
  if (!address.includes(':')) return address;
  const plain = unmapped(address);
  if (plain !== address) return plain;
  const groups = ipv6Groups(address);
  if (groups === undefined) return address;
  const parts: string[] = [];
  for (let bits = ipv6Prefix, i = 0; bits > 0; bits -= 16, i++) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    parts.push(((groups[i] as number) & mask).toString(16));
  }
  return `${parts.join(':')}::/${ipv6Prefix}`;
}
