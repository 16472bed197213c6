// verify --config: the public answer of every exact domain, compared with the config's own answer.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigReport } from '../../src/verify/against-config.js';
import { cliInProcess } from '../helpers/cli.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { type Fixture, GUID, OTHER_GUID, startFixtures, startSignIn } from './fixtures.js';

let pki: Pki;
let fixtures: Fixture;
let signIn: Fixture;
let dir: string;
let config: string;

beforeAll(async () => {
  pki = makePki();
  fixtures = await startFixtures(pki.leaf(['*.fixture.test', 'manage.microsoft.com']));
  signIn = await startSignIn(pki.leaf(['login.microsoftonline.com']));
  dir = mkdtempSync(join(tmpdir(), 'mdm-against-'));
  writeFileSync(join(dir, 'ca.pem'), pki.caPem);
  config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      tenants: [
        {
          name: 'healthy',
          domains: ['good.fixture.test'],
          enroll: {
            version: 'mdm-byod',
            baseUrl: `https://enroll.fixture.test:${fixtures.port}/enroll`,
          },
        },
        {
          // The public URL still serves an old static file with another BaseURL.
          name: 'stale',
          domains: ['cached.fixture.test'],
          enroll: { version: 'mdm-byod', baseUrl: 'https://new.fixture.test/enroll' },
        },
        {
          name: 'wrong-tenant',
          domains: ['intune-other.fixture.test'],
          enroll: { intune: { tenantId: GUID } },
        },
        {
          name: 'wild',
          domains: ['*.wild.fixture.test'],
          enroll: { version: 'mdm-byod', baseUrl: 'https://mdm.wild.example/enroll' },
        },
      ],
    }),
  );
}, 30_000);

afterAll(async () => {
  await fixtures.close();
  await signIn.close();
  pki.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const args = (...extra: string[]) => [
  'verify',
  '--config',
  config,
  '--model-family',
  'iPhone',
  '--no-probe-base-url',
  '--ca',
  join(dir, 'ca.pem'),
  '--resolve',
  `*:${fixtures.port}:127.0.0.1`,
  // The config's domains are asked on 443: every host there goes to the fixtures, but for
  // the sign-in host, whose own entry wins over the `*` one.
  '--resolve',
  `*:443:127.0.0.1:${fixtures.port}`,
  '--resolve',
  `login.microsoftonline.com:443:127.0.0.1:${signIn.port}`,
  ...extra,
];

describe('verify --config', () => {
  it('prints one line per domain, the wildcard-only tenant as not checked, then the failures', async () => {
    const result = await cliInProcess(args());
    expect(result.code).toBe(1);
    const lines = result.out.split('\n');
    expect(lines.slice(0, 4)).toEqual([
      '✓ good.fixture.test (healthy): 1 question, every answer as configured',
      `✗ cached.fixture.test (stale): iPhone probe@cached.fixture.test: the public answer is not this config's (public: 200 {"Servers":[{"Version":"mdm-byod","BaseURL":"https://enroll.fixture.test:${fixtures.port}/enroll"}]}; config: 200 {"Servers":[{"Version":"mdm-byod","BaseURL":"https://new.fixture.test/enroll"}]})`,
      `✗ intune-other.fixture.test (wrong-tenant): Entra tenant: the BaseURL names tenant ${GUID}; intune-other.fixture.test belongs to tenant ${OTHER_GUID}`,
      'wild: not checked: only wildcard domains (*.wild.fixture.test): verify one real host name with "mdm-discovery verify HOST"'.replace(
        /^/,
        '· ',
      ),
    ]);
    expect(lines.at(-2)).toBe('FAIL: 2 of 3 domains failed');
  });

  it('prints one JSON document with every comparison', async () => {
    const result = await cliInProcess(args('--json'));
    const report = JSON.parse(result.out) as ConfigReport;
    expect(report.verdict).toBe('fail');
    expect(report.domains.map((d) => [d.domain, d.verdict])).toEqual([
      ['good.fixture.test', 'pass'],
      ['cached.fixture.test', 'fail'],
      ['intune-other.fixture.test', 'fail'],
    ]);
    expect(report.domains[0]?.comparisons).toEqual([
      {
        user: 'probe@good.fixture.test',
        modelFamily: 'iPhone',
        expected: `200 {"Servers":[{"Version":"mdm-byod","BaseURL":"https://enroll.fixture.test:${fixtures.port}/enroll"}]}`,
        public: `200 {"Servers":[{"Version":"mdm-byod","BaseURL":"https://enroll.fixture.test:${fixtures.port}/enroll"}]}`,
        matches: true,
      },
    ]);
    expect(report.notChecked).toEqual([
      {
        tenant: 'wild',
        reason:
          'only wildcard domains (*.wild.fixture.test): verify one real host name with "mdm-discovery verify HOST"',
      },
    ]);
  });

  it('checks only the domains asked for', async () => {
    const result = await cliInProcess(args('--domain', 'good.fixture.test'));
    expect(result.code).toBe(0);
    expect(result.out).toContain('PASS: 0 of 1 domain failed');
  });

  it('refuses a domain and --config together', async () => {
    const result = await cliInProcess(['verify', 'contoso.com', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^mdm-discovery verify: give a domain or --config, not both\n/);
  });
});
