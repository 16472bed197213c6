import { describe, expect, it } from 'vitest';
import {
  domainMatcher,
  familyClass,
  globMatcher,
  percentBucket,
} from '../../src/discovery/match.js';

describe('globMatcher', () => {
  it.each([
    ['*@contoso.com', 'joe@contoso.com', true],
    ['*@contoso.com', 'joe@contoso.com.evil', false],
    ['*@*.contoso.com', 'joe@eu.contoso.com', true],
    ['*@*.contoso.com', 'joe@contoso.com', false],
    ['test-*@contoso.com', 'test-7@contoso.com', true],
    ['test-*@contoso.com', 'prod-7@contoso.com', false],
    ['*', '', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbY', false],
    ['joe@contoso.com', 'joe@contoso.com', true],
    ['joe@contoso.com', 'joe@contoso.co', false],
    ['j.e@x.com', 'jxe@x.com', false], // "." is literal, not a regular-expression wildcard
    ['(a+)+@x.com', '(a+)+@x.com', true],
  ])('%j against %j is %j', (pattern, text, expected) => {
    expect(globMatcher(pattern)(text)).toBe(expected);
  });

  it('stays linear on inputs that make backtracking regular expressions explode', () => {
    const matcher = globMatcher('*a*a*a*a*a*a*a*a*b');
    // 50,000 characters with no "b": a regular expression would take ages; this returns at once.
    expect(matcher('a'.repeat(50_000))).toBe(false);
  });
});

describe('percentBucket', () => {
  it('is stable across processes and releases: pinned values, independent per rule', () => {
    // SHA-256("cohort\njoe@contoso.com") read as a big-endian uint32, mod 10,000, computed outside
    // this code. A change of hashing would move real people between MDMs: it must fail here.
    expect(percentBucket('cohort', 'joe@contoso.com')).toBe(1151);
    expect(percentBucket('other', 'joe@contoso.com')).toBe(6925);
  });

  it('spreads 100,000 synthetic users: 10% lands within a percent of 10%', () => {
    let inside = 0;
    for (let i = 0; i < 100_000; i++) {
      if (percentBucket('pilot', `user${i}@contoso.com`) < 1000) inside++;
    }
    expect(inside / 100_000).toBeGreaterThan(0.09);
    expect(inside / 100_000).toBeLessThan(0.11);
  });
});

describe('domainMatcher', () => {
  const matches = domainMatcher(['contoso.com', '*.fabrikam.com']);
  it.each([
    ['contoso.com', true],
    ['eu.contoso.com', false],
    ['fabrikam.com', false],
    ['eu.fabrikam.com', true],
    ['a.b.fabrikam.com', true],
    ['notfabrikam.com', false],
  ])('%s is %j', (domain, expected) => {
    expect(matches(domain)).toBe(expected);
  });
});

describe('familyClass', () => {
  it('names absent and unknown families', () => {
    expect(familyClass(undefined)).toBe('absent');
    expect(familyClass('iPhone')).toBe('iPhone');
    expect(familyClass('iphone')).toBe('unknown');
    expect(familyClass('')).toBe('unknown');
  });
});
