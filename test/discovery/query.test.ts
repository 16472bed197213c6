import { describe, expect, it } from 'vitest';
import { parseDiscoveryQuery, userDomain } from '../../src/discovery/query.js';

const ok = (userIdentifier?: string, modelFamily?: string) => ({
  ok: true,
  query: { userIdentifier, modelFamily },
});

describe('parseDiscoveryQuery', () => {
  it.each([
    ['', ok()],
    ['user-identifier=joe@contoso.com&model-family=iPhone', ok('joe@contoso.com', 'iPhone')],
    ['user-identifier=joe%40contoso.com&model-family=Mac', ok('joe@contoso.com', 'Mac')],
    ['model-family=iPad', ok(undefined, 'iPad')],
    ['user-identifier=joe@contoso.com', ok('joe@contoso.com')],
    ['user-identifier=&model-family=', ok()],
    ['user-identifier', ok()],
    ['user-identifier=joe+mdm@contoso.com', ok('joe+mdm@contoso.com')],
    ['user-identifier=joe%2Bmdm%40contoso.com', ok('joe+mdm@contoso.com')],
    ['user-identifier=first@a.com&user-identifier=second@b.com', ok('first@a.com')],
    ['model-family=iphone', ok(undefined, 'iphone')],
    ['model-family=Toaster&x=%zz', ok(undefined, 'Toaster')],
    ['user%2Didentifier=joe@contoso.com', ok('joe@contoso.com')],
    ['a=1&&b=2&user-identifier=j%C3%B6rg@contoso.com', ok('jörg@contoso.com')],
  ])('reads %j', (search, expected) => {
    expect(parseDiscoveryQuery(search)).toEqual(expected);
  });

  it.each([
    ['user-identifier=joe%zz@contoso.com', 'user-identifier'],
    ['user-identifier=%E0%A4%A', 'user-identifier'],
    ['model-family=%FF', 'model-family'],
  ])('reports invalid percent-encoding in %j', (search, parameter) => {
    expect(parseDiscoveryQuery(search)).toEqual({ ok: false, parameter });
  });

  it('reads a query of several hundred kilobytes without throwing', () => {
    const search = `${'x=1&'.repeat(100_000)}user-identifier=joe@contoso.com`;
    expect(parseDiscoveryQuery(search)).toEqual(ok('joe@contoso.com'));
  });
});

describe('userDomain', () => {
  it.each([
    ['joe@Contoso.com', 'contoso.com'],
    ['"a@b"@contoso.com', 'contoso.com'],
    ['joe', undefined],
    ['joe@', undefined],
    [undefined, undefined],
  ])('of %j is %j', (identifier, domain) => {
    expect(userDomain(identifier)).toBe(domain);
  });
});
