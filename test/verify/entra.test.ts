// The Entra tenant lookup behind init --intune-domain and validate --online, against a sign-in fixture.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliInProcess } from '../helpers/cli.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { type Fixture, GUID, OTHER_GUID, startSignIn } from './fixtures.js';

let pki: Pki;
let signIn: Fixture;
let dir: string;

beforeAll(async () => {
  pki = makePki();
  signIn = await startSignIn(pki.leaf(['login.microsoftonline.com', 'login.microsoftonline.us']));
  dir = mkdtempSync(join(tmpdir(), 'mdm-entra-'));
  writeFileSync(join(dir, 'ca.pem'), pki.caPem);
}, 30_000);

afterAll(async () => {
  await signIn.close();
  pki.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** The sign-in hosts of both clouds, on the fixture. */
const network = () => [
  '--ca',
  join(dir, 'ca.pem'),
  '--resolve',
  `login.microsoftonline.com:443:127.0.0.1:${signIn.port}`,
  '--resolve',
  `login.microsoftonline.us:443:127.0.0.1:${signIn.port}`,
  '--timeout',
  '1',
];

describe('init --intune-domain', () => {
  it('fills in the tenant ID that owns the domain', async () => {
    const output = join(dir, 'match.json');
    const result = await cliInProcess([
      'init',
      '--intune-domain',
      'intune-match.fixture.test',
      '--output',
      output,
      ...network(),
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toContain(
      `intune-match.fixture.test belongs to Entra tenant ${GUID} (login.microsoftonline.com)`,
    );
    const written = JSON.parse(readFileSync(output, 'utf8')) as { tenants: object[] };
    expect(written.tenants).toEqual([
      {
        name: 'intune-match',
        domains: ['intune-match.fixture.test'],
        enroll: { intune: { cloud: 'commercial', tenantId: GUID } },
      },
    ]);
  });

  it('asks the sign-in host of the chosen cloud', async () => {
    signIn.seen.length = 0;
    const output = join(dir, 'gov.json');
    const result = await cliInProcess([
      'init',
      '--intune-domain',
      'intune-other.fixture.test',
      '--cloud',
      'usgov',
      '--output',
      output,
      ...network(),
    ]);
    expect(result.code).toBe(0);
    expect(signIn.seen).toEqual([
      'GET login.microsoftonline.us /intune-other.fixture.test/v2.0/.well-known/openid-configuration',
    ]);
    expect(readFileSync(output, 'utf8')).toContain(`"tenantId": "${OTHER_GUID}"`);
  });

  it.each([
    [
      'nobody.fixture.test',
      'nobody.fixture.test is not a verified domain of any Entra tenant (AADSTS90002); check the domain, or give --intune-tenant',
    ],
    [
      'intune-slow.fixture.test',
      'the tenant of intune-slow.fixture.test could not be looked up at login.microsoftonline.com (no complete answer within 1 s (--timeout)); give --intune-tenant',
    ],
  ])('writes nothing for %s', async (domain, message) => {
    const output = join(dir, `${domain}.json`);
    const result = await cliInProcess([
      'init',
      '--intune-domain',
      domain,
      '--output',
      output,
      ...network(),
    ]);
    expect(result.code).toBe(1);
    expect(result.err).toBe(`mdm-discovery init: ${message}\n`);
    expect(() => readFileSync(output)).toThrow();
  });
});

describe('validate --online', () => {
  it('compares every Intune tenant with the tenant that owns each exact domain', async () => {
    const file = join(dir, 'config.json');
    const intune = (tenantId: string) => ({ intune: { tenantId } });
    writeFileSync(
      file,
      JSON.stringify({
        tenants: [
          { name: 'good', domains: ['intune-match.fixture.test'], enroll: intune(GUID) },
          {
            name: 'wrong',
            domains: ['intune-other.fixture.test', '*.wild.fixture.test'],
            enroll: intune(GUID),
          },
          { name: 'unknown', domains: ['nobody.fixture.test'], enroll: intune(GUID) },
          {
            name: 'jamf',
            domains: ['jamf.fixture.test'],
            enroll: { jamf: { url: 'https://jamf.fixture.test' } },
          },
        ],
      }),
    );
    const result = await cliInProcess(['validate', file, '--online', ...network()]);
    expect(result.code).toBe(1);
    expect(result.out.split('\n').slice(1)).toEqual([
      `online: ✓ good intune-match.fixture.test: ${GUID} is the Entra tenant of intune-match.fixture.test`,
      `online: ✗ wrong intune-other.fixture.test: the BaseURL names tenant ${GUID}; intune-other.fixture.test belongs to tenant ${OTHER_GUID}`,
      `          fix: use aadTenantId=${OTHER_GUID} (Entra admin center > Overview > Tenant ID)`,
      'online: ✗ unknown nobody.fixture.test: nobody.fixture.test is not a verified domain of any Entra tenant (AADSTS90002)',
      "          fix: add and verify nobody.fixture.test in Entra ID (Custom domain names), or check the users' domain",
      '',
    ]);
  });

  it('passes when every tenant matches', async () => {
    const file = join(dir, 'good.json');
    writeFileSync(
      file,
      JSON.stringify({
        tenants: [
          {
            name: 'good',
            domains: ['intune-match.fixture.test'],
            enroll: { intune: { tenantId: GUID } },
          },
        ],
      }),
    );
    const result = await cliInProcess(['validate', file, '--online', ...network()]);
    expect(result.code).toBe(0);
  });
});
