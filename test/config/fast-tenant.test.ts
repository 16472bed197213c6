import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../src/config/compile.js';
import { fastTenantParser } from '../../src/config/fast-tenant.js';
import { parseConfig } from '../../src/config/parse.js';
import { ACTIONS, tenantSchema } from '../../src/config/schema.js';
import { decide } from '../../src/discovery/decide.js';
import { deviceQuery } from '../../src/discovery/query.js';

const GUID = '6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a';

/** Valid values, and values each check refuses, side by side, so that generated tenants land on both sides. */
const name = (valid: boolean) =>
  valid
    ? fc.constantFrom('contoso', 't1', 'A.b_c-9')
    : fc.constantFrom('', '-x', 'has space', 'x'.repeat(65), 7);
const domain = (valid: boolean) =>
  valid
    ? fc.constantFrom('contoso.example', '*.contoso.example', 'Contoso.Example.', 'bücher.example')
    : fc.constantFrom(
        ' contoso.example',
        'contoso',
        'https://contoso.example',
        'a@b.example',
        'x.example:443',
        'a.*.example',
        5,
      );
const url = (valid: boolean, query = true) =>
  valid && !query
    ? fc.constantFrom('https://mdm.example.com/enroll', 'https://x.jamfcloud.com/')
    : valid
      ? fc.constantFrom(
          'https://mdm.example.com/enroll',
          'https://mdm.example.com/e?org=7',
          'https://x.jamfcloud.com/',
        )
      : fc.constantFrom(
          'http://mdm.example.com',
          'https://user:pw@mdm.example.com',
          'https://mdm.example.com/#x',
          'not a url',
          'https://bad_host/x',
          'https://mdm.example.com/api/x',
          'https://j.example/servicediscoveryenrollment/v1/userenroll',
        );
const server = (valid: boolean) =>
  fc.oneof(
    fc.record({
      intune: fc.record(
        {
          cloud: valid
            ? fc.constantFrom('commercial', 'usgov', 'china')
            : fc.constantFrom('gcc', 1),
          tenantId: valid
            ? fc.constantFrom(GUID, GUID.toUpperCase())
            : fc.constantFrom('YourAADTenantID', ''),
        },
        { requiredKeys: ['tenantId'] },
      ),
    }),
    fc.record({
      jamf: fc.record(
        {
          url: url(valid, false),
          enrollment: valid ? fc.constantFrom('user', 'device') : fc.constant('both'),
        },
        { requiredKeys: ['url'] },
      ),
    }),
    fc.record({ fleet: fc.record({ url: url(valid, false) }) }),
    fc.record({
      version: valid ? fc.constantFrom('mdm-byod', 'mdm-adde') : fc.constantFrom('mdm', ''),
      baseUrl: url(valid),
    }),
    ...(valid
      ? []
      : [
          fc.constant({}),
          fc.record({ version: fc.constant('mdm-byod') }),
          fc.constant({ intune: { tenantId: GUID }, fleet: { url: 'https://f.example' } }),
        ]),
  );
const action = (valid: boolean) =>
  fc.oneof(
    fc.record({ enroll: server(valid) }),
    fc.record({
      reject: valid
        ? fc.record(
            {
              message: fc.constantFrom('No.', '  Ask IT.  '),
              description: fc.constantFrom('x', ''),
            },
            { requiredKeys: ['message'] },
          )
        : fc.oneof(
            fc.constant({ message: '   ' }),
            fc.constant({ message: 'x'.repeat(1001) }),
            fc.constant({ message: 'x', extra: 1 }),
          ),
    }),
    fc.record({ notFound: valid ? fc.constant(true) : fc.constantFrom(false, 'yes') }),
    fc.record({ appleBusiness: valid ? fc.constant(true) : fc.constantFrom(false, 'yes', 1) }),
    fc.record({
      redirect: fc.record(
        {
          url: url(valid),
          status: valid ? fc.constantFrom(302, 307) : fc.constantFrom(301, '302'),
        },
        { requiredKeys: ['url'] },
      ),
    }),
    ...(valid
      ? []
      : [
          fc.constant({}),
          fc.constant({ notFound: true, reject: { message: 'x' } }),
          fc.constant({ notFound: true, appleBusiness: true }),
        ]),
  );
const when = (valid: boolean) =>
  fc
    .record(
      {
        users: valid
          ? fc.array(fc.constantFrom('Joe@Contoso.example', 'a@b.example'), {
              minLength: 1,
              maxLength: 2,
            })
          : fc.constantFrom([], [' joe@contoso.example'], ['joe'], ['joe@']),
        usersFile: valid ? fc.constant('users.txt') : fc.constant(''),
        userDomains: valid
          ? fc.array(domain(true), { minLength: 1, maxLength: 2 })
          : fc.constantFrom([], ['contoso']),
        userPatterns: valid
          ? fc.constantFrom(['*@Contoso.example'], ['test-*'])
          : fc.constantFrom([''], ['a b']),
        modelFamilies: valid
          ? fc.constantFrom(['Mac'], ['iPhone', 'absent'], ['unknown'])
          : fc.constantFrom(['mac'], [], ['Windows']),
        percent: valid ? fc.constantFrom(0, 12.5, 100) : fc.constantFrom(-1, 101, '5'),
        ...(valid ? {} : { other: fc.constant(1) }),
      },
      { requiredKeys: [] },
    )
    .filter((w) => !valid || Object.keys(w).length > 0);
const rule = (valid: boolean) =>
  fc
    .tuple(name(valid), when(valid), action(valid))
    .map(([n, w, a]) => ({ name: n, when: w, ...a }));

/** A tenant whose every part is valid, or (`valid` false) any mix of valid and invalid parts. */
function tenant(valid: boolean): fc.Arbitrary<unknown> {
  const part = <T>(make: (v: boolean) => fc.Arbitrary<T>) =>
    valid
      ? make(true)
      : fc.oneof({ weight: 2, arbitrary: make(true) }, { weight: 1, arbitrary: make(false) });
  return fc
    .tuple(
      part(name),
      fc.array(part(domain), { minLength: valid ? 1 : 0, maxLength: 3 }),
      part(action),
      fc.option(fc.array(part(rule), { maxLength: 3 }), { nil: undefined }),
      valid ? fc.constant({}) : fc.constantFrom({}, {}, { watch: { skip: true } }, { extra: 1 }),
    )
    .map(([n, domains, a, rules, extra]) => ({
      name: n,
      domains,
      ...a,
      ...(rules === undefined ? {} : { rules }),
      ...extra,
    }));
}

/** One defect each, set into an otherwise valid tenant: zod refuses every one. */
const withRule = (extra: object) => ({ rules: [{ name: 'r', notFound: true, ...extra }] });
const DEFECTS: Record<string, object> = {
  'placeholder tenant id': { enroll: { intune: { tenantId: 'YourAADTenantID' } } },
  'empty tenant id': { enroll: { intune: { tenantId: '' } } },
  'unknown cloud': { enroll: { intune: { cloud: 'gcc', tenantId: GUID } } },
  'unknown intune key': { enroll: { intune: { tenantId: GUID, tenant: 1 } } },
  'pasted jamf path': {
    enroll: { jamf: { url: 'https://j.example/servicediscoveryenrollment/v1/userenroll' } },
  },
  'jamf query': { enroll: { jamf: { url: 'https://j.example/?x=1' } } },
  'jamf enrollment': { enroll: { jamf: { url: 'https://j.example', enrollment: 'both' } } },
  'pasted fleet path': { enroll: { fleet: { url: 'https://f.example/api/mdm' } } },
  'http fleet': { enroll: { fleet: { url: 'http://f.example' } } },
  'version alone': { enroll: { version: 'mdm-byod' } },
  'baseUrl alone': { enroll: { baseUrl: 'https://x.example' } },
  'unknown version': { enroll: { version: 'mdm', baseUrl: 'https://x.example' } },
  credentials: { enroll: { version: 'mdm-byod', baseUrl: 'https://u:p@x.example' } },
  'no server': { enroll: {} },
  'two servers': { enroll: { intune: { tenantId: GUID }, version: 'mdm-byod' } },
  'blank message': { enroll: undefined, reject: { message: '  ' } },
  'long message': { enroll: undefined, reject: { message: 'x'.repeat(1001) } },
  'long description': {
    enroll: undefined,
    reject: { message: 'No.', description: 'x'.repeat(1001) },
  },
  'notFound false': { enroll: undefined, notFound: false },
  'http redirect': { enroll: undefined, redirect: { url: 'http://x.example' } },
  'permanent redirect': { enroll: undefined, redirect: { url: 'https://x.example', status: 301 } },
  'two actions': { enroll: { intune: { tenantId: GUID } }, reject: { message: 'No.' } },
  'no action': Object.fromEntries(ACTIONS.map((key) => [key, undefined])),
  'appleBusiness false': { enroll: undefined, appleBusiness: false },
  'bad name': { name: 'has space' },
  'no domain': { domains: [] },
  'one-label domain': { domains: ['contoso'] },
  'domain with a blank': { domains: ['contoso.example '] },
  'unknown key': { tenant: 1 },
  'empty when': withRule({ when: {} }),
  'empty families': withRule({ when: { modelFamilies: [] } }),
  'lower-case family': withRule({ when: { modelFamilies: ['mac'] } }),
  'user without @': withRule({ when: { users: ['joe'] } }),
  'percent over 100': withRule({ when: { percent: 101 } }),
  'pattern with a blank': withRule({ when: { userPatterns: ['a b'] } }),
  'empty users file': withRule({ when: { usersFile: '' } }),
  'unknown condition': withRule({ when: { group: 'x' } }),
  'rule without action': { rules: [{ name: 'r', when: { percent: 5 } }] },
  'same rule twice': {
    rules: [
      { name: 'r', when: { percent: 5 }, notFound: true },
      { name: 'r', when: { percent: 6 }, notFound: true },
    ],
  },
};

describe('the fast tenant parser (config/fast-tenant.ts)', () => {
  it.each(Object.keys(DEFECTS))('leaves a tenant with a defect to zod: %s', (defect) => {
    const fast = fastTenantParser();
    fc.assert(
      fc.property(tenant(true), (valid) => {
        const raw = JSON.parse(JSON.stringify({ ...(valid as object), ...DEFECTS[defect] }));
        expect(tenantSchema.safeParse(structuredClone(raw)).success).toBe(false);
        expect(fast(raw)).toBeUndefined();
      }),
      { numRuns: 50 },
    );
  });

  it('accepts only what zod accepts, with the very same result (keys in the same order)', () => {
    const fast = fastTenantParser();
    let accepted = 0;
    fc.assert(
      fc.property(tenant(false), (raw) => {
        const quick = fast(structuredClone(raw));
        if (quick === undefined) return;
        accepted++;
        const slow = tenantSchema.safeParse(structuredClone(raw));
        expect(slow.success).toBe(true);
        expect(quick).toStrictEqual(slow.data);
        expect(JSON.stringify(quick)).toBe(JSON.stringify(slow.data));
      }),
      { numRuns: 6000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it('takes every common valid tenant itself, so zod is left the rare shapes and the errors', () => {
    const fast = fastTenantParser();
    fc.assert(
      fc.property(tenant(true), (raw) => {
        const rules = (raw as { rules?: { name: unknown }[] }).rules ?? [];
        fc.pre(new Set(rules.map((r) => r.name)).size === rules.length);
        const slow = tenantSchema.safeParse(structuredClone(raw));
        expect(slow.success).toBe(true);
        expect(fast(structuredClone(raw))).toStrictEqual(slow.data);
      }),
      { numRuns: 2000 },
    );
  });

  it('makes equal rules and servers once, for every tenant that has them', () => {
    const fast = fastTenantParser();
    const make = (n: number) =>
      fast({
        name: `t${n}`,
        domains: [`t${n}.example`],
        enroll: { intune: { tenantId: GUID } },
        rules: [{ name: 'macs', when: { modelFamilies: ['Mac'] }, reject: { message: 'No.' } }],
      });
    const [a, b] = [make(1), make(2)];
    expect(a?.rules[0]).toBe(b?.rules[0]);
    expect(a?.action).toBe(b?.action);
    expect(a?.domains).not.toBe(b?.domains);
  });
});

describe('a whole config read the fast way', () => {
  it('is the config read the plain way (one JSON.parse, zod for every tenant), and answers alike', () => {
    fc.assert(
      fc.property(
        fc.array(tenant(true), { minLength: 1, maxLength: 40 }),
        fc.constantFrom('', ' ', '\n  '),
        (generated, blank) => {
          const tenants = generated.map((t, i) => ({
            ...(t as object),
            ...((t as { rules?: object[] }).rules
              ? { rules: (t as { rules: object[] }).rules.map((r, j) => ({ ...r, name: `r${j}` })) }
              : {}),
            name: `t${i}`,
            domains: [`t${i}.example`, `*.t${i}.example`],
          }));
          const text = `{${blank}"tenants":${blank}[${tenants.map((t) => JSON.stringify(t)).join(`,${blank}`)}]}`;
          const documents = [{ file: 'c.json', text, path: '/nowhere/c.json' }];
          const readText = () => 'joe@contoso.example\n';
          const fast = parseConfig(documents, { readText });
          const plain = parseConfig(documents, { readText, fastPaths: false });
          expect(fast).toStrictEqual(plain);
          const [a, b] = [compileConfig(fast), compileConfig(plain)];
          for (let i = 0; i < tenants.length; i++) {
            for (const family of ['Mac', 'iPhone', 'AppleTV', undefined]) {
              for (const user of ['joe@contoso.example', 'test-1@contoso.example', undefined]) {
                const search = deviceQuery(user ?? '', family).replace(/^user-identifier=&?/, '');
                const request = { host: `t${i}.example`, search };
                expect(decide(a, request).response).toStrictEqual(decide(b, request).response);
              }
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
