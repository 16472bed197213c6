import { describe, expect, it } from 'vitest';
import { trustFunction } from '../../src/http/trust.js';

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
