import fc from 'fast-check';
import Fastify from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  clientAddressOf,
  requestHostOf,
  type TrustProxy,
  trustFunction,
} from '../../src/http/trust.js';
import { inject } from '../helpers/dispatch.js';

describe('trustFunction', () => {
  it('passes booleans through and counts hops for a number', () => {
    expect(trustFunction(false)).toBe(false);
    expect(trustFunction(true)).toBe(true);
    const two = trustFunction(2) as (address: string, hop: number) => boolean;
    expect([0, 1, 2].map((hop) => two('203.0.113.1', hop))).toEqual([true, true, false]);
  });

  it('matches addresses, CIDRs and named ranges, the same after the cache is emptied', () => {
    const trusted = trustFunction(['loopback', '10.0.0.0/8']) as (a: string, h: number) => boolean;
    const expected: [string, boolean][] = [
      ['127.0.0.1', true],
      ['::1', true],
      ['10.200.0.1', true],
      ['11.0.0.1', false],
      ['::ffff:10.0.0.1', true],
    ];
    // Past 1024 addresses the remembered answers are dropped; answers must not change.
    for (let i = 0; i < 3000; i++) trusted(`198.18.${i >> 8}.${i & 255}`, 0);
    for (const [address, answer] of expected) {
      expect(trusted(address, 0)).toBe(answer);
      expect(trusted(address, 0)).toBe(answer);
    }
  });
});

describe('the hot path reads the client and the host as Fastify does', () => {
  const settings: TrustProxy[] = [
    false,
    true,
    0,
    1,
    2,
    3,
    ['127.0.0.1'],
    ['loopback', '10.0.0.0/8'],
  ];
  const address = fc.constantFrom('127.0.0.1', '10.1.2.3', '203.0.113.9', '::1', '192.0.2.1', 'x');
  const blank = fc.constantFrom('', ' ', '\t', '  ');
  const entry = fc.tuple(blank, fc.oneof(address, fc.constant(''), fc.constant('a b')), blank);
  const header = fc.oneof(
    fc.constant(undefined),
    fc.array(entry, { maxLength: 5 }).map((parts) => parts.map((p) => p.join('')).join(',')),
    fc.string({ maxLength: 20 }),
  );

  it.each(settings.map((s) => [JSON.stringify(s), s] as const))(
    'with TRUST_PROXY %s, for generated X-Forwarded-For and X-Forwarded-Host headers',
    async (_name, trust) => {
      const believes = trustFunction(trust);
      const app = Fastify({ trustProxy: believes });
      app.get('/', (request) => ({ ip: request.ip, host: request.host }));
      onTestFinished(() => app.close());
      const clientAddress = clientAddressOf(believes);
      const requestHost = requestHostOf(believes);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('127.0.0.1', '10.9.9.9', '198.51.100.4'),
          header,
          header,
          async (peer, forwardedFor, forwardedHost) => {
            const headers: Record<string, string> = { host: 'service.example' };
            if (forwardedFor !== undefined) headers['x-forwarded-for'] = forwardedFor;
            if (forwardedHost !== undefined) headers['x-forwarded-host'] = forwardedHost;
            const res = await inject(app, { url: '/', headers, remoteAddress: peer });
            const request = { headers, socket: { remoteAddress: peer } };
            expect({ ip: clientAddress(request), host: requestHost(request) }).toEqual(res.json());
          },
        ),
        { numRuns: 300 },
      );
    },
  );
});
