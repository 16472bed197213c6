import { describe, expect, it } from 'vitest';
import { hostKey, toAsciiDomain } from '../../src/discovery/host.js';

describe('hostKey', () => {
  it.each([
    ['contoso.com', 'contoso.com'],
    ['Contoso.COM', 'contoso.com'],
    ['contoso.com:443', 'contoso.com'],
    ['contoso.com.', 'contoso.com'],
    ['CONTOSO.com.:8080', 'contoso.com'],
    ['bücher.example', 'xn--bcher-kva.example'],
    // Node reads header bytes as latin1: UTF-8 "bücher" arrives as "bÃ¼cher".
    [Buffer.from('bücher.example', 'utf8').toString('latin1'), 'xn--bcher-kva.example'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
  ])('reads %j as %j', (header, key) => {
    expect(hostKey(header)).toBe(key);
  });

  it.each([
    [undefined],
    [''],
    ['localhost'],
    ['127.0.0.1'],
    ['127.0.0.1:8080'],
    ['[::1]:8080'],
    ['contoso.com:http'],
    ['contoso..com'],
    ['-contoso.com'],
    ['con_toso.com'],
    [`${'a'.repeat(64)}.com`],
    ['a.'.repeat(200)],
  ])('treats %j as no configured domain', (header) => {
    expect(hostKey(header)).toBeUndefined();
  });
});

describe('toAsciiDomain', () => {
  it('drops one trailing dot and lower-cases', () => {
    expect(toAsciiDomain('Contoso.Example.')).toBe('contoso.example');
  });
  it('refuses a single label', () => {
    expect(toAsciiDomain('intranet')).toBeUndefined();
  });
});
