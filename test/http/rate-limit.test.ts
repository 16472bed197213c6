// The rate limit on its own: which client an address is, the exact table, and the estimate past it.

import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientKey, ipv6Groups, isLoopbackAddress } from '../../src/address.js';
import { createRateLimiter } from '../../src/http/rate-limit.js';

/** Eight groups written out in full, upper case, with leading zeros. */
const full = (groups: number[]) =>
  groups.map((g) => g.toString(16).toUpperCase().padStart(4, '0')).join(':');
/** Node's own canonical text of the same address (compressed, lower case). */
const canonical = (groups: number[]) => new URL(`http://[${full(groups)}]/`).hostname.slice(1, -1);

describe('which client an address is', () => {
  it('keys IPv4 as itself, IPv4-mapped IPv6 as its IPv4, and anything else as itself', () => {
    expect(clientKey('192.0.2.1', 64)).toBe('192.0.2.1');
    expect(clientKey('::ffff:192.0.2.1', 64)).toBe('192.0.2.1');
    expect(clientKey('::FFFF:192.0.2.1', 64)).toBe('192.0.2.1');
    expect(clientKey('not an address', 64)).toBe('not an address');
    expect(clientKey('2001:db8::1:2:3:4:5', 64)).toBe('2001:db8:0:1::/64');
    expect(clientKey('fe80::1%eth0', 64)).toBe('fe80:0:0:0::/64');
    expect(clientKey('2001:db8::1', 48)).toBe('2001:db8:0::/48');
    expect(clientKey('2001:db8:ffff::1', 36)).toBe('2001:db8:f000::/36');
  });

  it('gives every spelling of an IPv6 address the key of its first N bits', () => {
    const group = fc.integer({ min: 0, max: 0xffff });
    fc.assert(
      fc.property(
        fc.array(group, { minLength: 8, maxLength: 8 }),
        fc.array(group, { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 32, max: 128 }),
        (groups, otherHost, prefix) => {
          expect(ipv6Groups(full(groups))).toEqual(groups);
          expect(ipv6Groups(canonical(groups))).toEqual(groups);
          const key = clientKey(canonical(groups), prefix);
          expect(clientKey(full(groups), prefix)).toBe(key);
          // Two addresses share a key exactly when their first `prefix` bits agree.
          const other = [...groups.slice(0, 4), ...otherHost];
          const bits = (g: number[]) =>
            g
              .map((x) => x.toString(2).padStart(16, '0'))
              .join('')
              .slice(0, prefix);
          expect(clientKey(canonical(other), prefix) === key).toBe(bits(other) === bits(groups));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("reads IPv6 text as isIPv6 and Node's URL parser do, valid or not", () => {
    /** The plain reading: Node's validator, then the URL parser's canonical groups. */
    const reference = (text: string): number[] | undefined => {
      if (!isIPv6(text)) return undefined;
      const host = new URL(`http://[${text.split('%')[0]}]/`).hostname.slice(1, -1);
      const [head = '', tail] = host.split('::');
      const part = (p: string) => (p === '' ? [] : p.split(':').map((g) => Number.parseInt(g, 16)));
      const h = part(head);
      const t = tail === undefined ? [] : part(tail);
      return tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
    };
    const piece = fc.oneof(
      fc.constantFrom(
        ':',
        '::',
        '.',
        '%',
        '%eth0',
        '0',
        'ffff',
        'FFFF',
        '12345',
        '192.0.2.1',
        '1.2.3',
      ),
      fc.integer({ min: 0, max: 0xfffff }).map((n) => n.toString(16)),
      fc.stringMatching(/^[0-9a-fA-F:.%]{0,6}$/),
    );
    const text = fc.array(piece, { maxLength: 12 }).map((p) => p.join(''));
    const group = fc.integer({ min: 0, max: 0xffff });
    const valid = fc.array(group, { minLength: 8, maxLength: 8 }).map(canonical);
    fc.assert(
      fc.property(fc.oneof(text, valid), (candidate) => {
        expect(ipv6Groups(candidate), candidate).toEqual(reference(candidate));
      }),
      { numRuns: 20_000 },
    );
  });

  it('tells loopback addresses from the rest', () => {
    for (const a of ['127.0.0.1', '127.9.8.7', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) {
      expect(isLoopbackAddress(a), a).toBe(true);
    }
    for (const a of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '::ffff:10.0.0.1',
      '::2',
      '128.0.0.1',
      'localhost',
      '127.attacker.example',
    ]) {
      expect(isLoopbackAddress(a), a).toBe(false);
    }
  });
});

describe('the limiter', () => {
  it('refuses a client past its budget until the window ends, and a refusal does not count', () => {
    const limiter = createRateLimiter({ perMinute: 2 });
    const t = 1_000_000;
    expect([limiter.hit('a', t), limiter.hit('a', t), limiter.hit('a', t + 1000)]).toEqual([
      0, 0, 59,
    ]);
    expect(limiter.hit('a', t + 59_500)).toBe(1);
    expect(limiter.hit('a', t + 60_000)).toBe(0);
    expect(limiter.hit('a', t + 60_000)).toBe(0);
    expect(limiter.hit('a', t + 60_000)).toBeGreaterThan(0);
  });

  it('past its table, never lets a flooding client more than its budget, and serves new ones', () => {
    const perMinute = 20;
    const limiter = createRateLimiter({ perMinute, maxClients: 100 });
    const t = 5_000_000;
    for (let i = 0; i < 100; i++) limiter.hit(`10.0.0.${i}`, t);
    // 200,000 addresses past the table, each under its budget: about three counts per counter.
    for (let i = 0; i < 200_000; i++) {
      expect(limiter.hit(`10.${(i >> 16) + 1}.${(i >> 8) & 255}.${i & 255}`, t)).toBe(0);
    }
    // A client past the table gets no more than its budget (the estimate never undercounts)...
    let served = 0;
    while (limiter.hit('203.0.113.1', t) === 0) served++;
    expect(served).toBeLessThanOrEqual(perMinute);
    // ...and nearly all of it: the error is about 200,000 / 262,144 per counter, at the minimum of four.
    expect(served).toBeGreaterThan(perMinute - 5);
    // New clients are not locked out.
    let refused = 0;
    for (let i = 0; i < 1000; i++) if (limiter.hit(`198.51.100.${i % 256}.${i}`, t) > 0) refused++;
    expect(refused).toBe(0);
  });
});
