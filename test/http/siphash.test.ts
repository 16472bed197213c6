import { describe, expect, it } from 'vitest';
import { sipHasher } from '../../src/http/siphash.js';

// Key 00..0f and message 00..(n-1), as in the reference implementation's test vectors; the
// expected values were printed by Rust's std::hash::SipHasher (SipHash-2-4) on this machine.
const key = Uint8Array.from({ length: 16 }, (_, i) => i);
const message = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);

describe('SipHash-2-4', () => {
  const sip = sipHasher(key);

  it.each([
    [0, '726fdb47dd0e0e31'],
    [1, '74f839c593dc67fd'],
    [7, 'ab0200f58b01d137'],
    [8, '93f5f5799a932462'],
    [15, 'a129ca6149be45e5'],
    [16, '3f2acc7f57c29bdb'],
    [63, '958a324ceb064572'],
  ])('gives the reference value for %i bytes', (n, expected) => {
    expect(sip(message(n))).toBe(expected);
  });

  it('hashes UTF-8 bytes, and only the first `length` of them', () => {
    expect(sip(Buffer.from('jöe@contoso.example'))).toBe('c74abc085c3fa2dd');
    const scratch = Buffer.alloc(64, 0xaa);
    scratch.set(message(15));
    expect(sip(scratch, 15)).toBe('a129ca6149be45e5');
  });

  it('takes only a 16-byte key', () => {
    expect(() => sipHasher(new Uint8Array(8))).toThrow(RangeError);
  });
});
