import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../src/config/compile.js';
import { decide } from '../../src/discovery/decide.js';
import { configOf, PRESETS } from '../helpers/app.js';

const table = compileConfig(configOf(PRESETS));
const tenantOf = (host: string) => decide(table, { host, search: '' }).tenant;

describe('decide', () => {
  it('chooses the tenant by exact domain', () => {
    expect(tenantOf('fabrikam.example')).toBe('fabrikam');
    expect(tenantOf('corp.fabrikam.example')).toBe('fabrikam-corp');
  });

  it('matches a wildcard at any depth below its domain, but not the domain itself', () => {
    expect(tenantOf('a.contoso.example')).toBe('contoso');
    expect(tenantOf('a.b.c.contoso.example')).toBe('contoso');
    expect(tenantOf('contoso.example')).toBe('contoso');
    expect(tenantOf('research.contoso.example')).toBe('contoso');
  });

  it('prefers the longer wildcard', () => {
    expect(tenantOf('lab.research.contoso.example')).toBe('research');
    expect(tenantOf('x.lab.research.contoso.example')).toBe('research');
  });

  it('prefers an exact domain over a wildcard', () => {
    const t = compileConfig(
      configOf({
        tenants: [
          {
            name: 'wild',
            domains: ['*.a.example'],
            enroll: { fleet: { url: 'https://f.example' } },
          },
          {
            name: 'exact',
            domains: ['x.a.example'],
            enroll: { fleet: { url: 'https://g.example' } },
          },
        ],
      }),
    );
    expect(decide(t, { host: 'x.a.example', search: '' }).tenant).toBe('exact');
    expect(decide(t, { host: 'y.a.example', search: '' }).tenant).toBe('wild');
  });

  it('answers an unknown host with the shared 404 before reading the query', () => {
    const decision = decide(table, { host: 'other.example', search: 'user-identifier=%zz' });
    expect(decision).toMatchObject({ outcome: 'unknown_host', tenant: undefined });
    expect(decision.response).toBe(table.notFound);
  });

  it('answers a known host with an unreadable query with 400', () => {
    const decision = decide(table, { host: 'contoso.example', search: 'user-identifier=%zz' });
    expect(decision).toMatchObject({ outcome: 'bad_query', tenant: 'contoso' });
    expect(decision.response.status).toBe(400);
  });

  it('does not depend on the query for a tenant with one server', () => {
    const a = decide(table, { host: 'contoso.example', search: 'model-family=Mac' });
    const b = decide(table, { host: 'contoso.example', search: 'model-family=Toaster' });
    expect(a.response).toBe(b.response);
    expect(a.query).toEqual({ userIdentifier: undefined, modelFamily: 'Mac' });
  });
});

describe('compiled answers', () => {
  const jamf = (host: string) => ({ jamf: { url: `https://${host}` } });
  const shared = compileConfig(
    configOf({
      tenants: [
        { name: 'a', domains: ['a.example'], enroll: jamf('mdm-1.example') },
        { name: 'b', domains: ['b.example'], enroll: jamf('mdm-1.example') },
        { name: 'c', domains: ['c.example'], enroll: jamf('mdm-2.example') },
        { name: 'd', domains: ['d.example'], enroll: jamf('mdm-22.example') },
      ],
    }),
    { 'x-frame-options': 'DENY' },
  );
  const answer = (host: string) => decide(shared, { host, search: '' }).response;

  it('are one object per distinct answer, however many tenants give it', () => {
    expect(answer('a.example')).toBe(answer('b.example'));
    expect(answer('a.example')).not.toBe(answer('c.example'));
    expect(answer('c.example').body).toContain('mdm-2.example');
  });

  it('share one header set per body length, and carry exactly their own length', () => {
    expect(answer('c.example').headers).toBe(answer('a.example').headers);
    expect(answer('d.example').headers).not.toBe(answer('a.example').headers);
    for (const host of ['a.example', 'c.example', 'd.example']) {
      const { headers, rawHeaders, body, bytes } = answer(host);
      expect(headers['content-length']).toBe(String(Buffer.byteLength(body)));
      expect(bytes.equals(Buffer.from(body))).toBe(true);
      expect(rawHeaders).toEqual(Object.entries(headers).flat());
      expect(headers['x-frame-options']).toBe('DENY');
    }
  });
});

describe('percent rules', () => {
  const rollout = (percent: number) =>
    compileConfig(
      configOf({
        tenants: [
          {
            name: 't',
            domains: ['t.example'],
            enroll: { fleet: { url: 'https://old.example' } },
            rules: [
              { name: 'all', when: { percent }, enroll: { fleet: { url: 'https://new.example' } } },
            ],
          },
        ],
      }),
    );
  const ruleFor = (table: ReturnType<typeof compileConfig>, search: string) =>
    decide(table, { host: 't.example', search }).rule;

  it('at 100, take everyone who sends a user-identifier, and no one who does not', () => {
    const all = rollout(100);
    for (let i = 0; i < 200; i++)
      expect(ruleFor(all, `user-identifier=u${i}@t.example`)).toBe('all');
    expect(ruleFor(all, 'model-family=iPhone')).toBeUndefined();
  });

  it('at 50, take about half, each person always the same way', () => {
    const half = rollout(50);
    const taken = Array.from({ length: 1000 }, (_, i) => `user-identifier=u${i}@t.example`).filter(
      (search) => ruleFor(half, search) === 'all',
    );
    expect(taken.length).toBeGreaterThan(420);
    expect(taken.length).toBeLessThan(580);
    for (const search of taken.slice(0, 20)) expect(ruleFor(half, search)).toBe('all');
  });
});
