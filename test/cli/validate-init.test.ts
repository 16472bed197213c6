import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';
import { cliInProcess } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mdm-init-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cli = cliInProcess;

describe('mdm-discovery validate', () => {
  it('says a valid config is valid, with its warnings, and exits 0', async () => {
    const result = await cli(['validate', DEFAULT_CONFIG_PATH]);
    expect(result.code).toBe(0);
    expect(result.out).toBe('the embedded demo config: valid, 3 tenants, 2 rules, 0 warnings\n');
    const file = join(dir, 'warn.json');
    await writeFile(
      file,
      JSON.stringify(
        {
          tenants: [
            {
              name: 'a',
              domains: ['a.example', 'a.example'],
              enroll: { fleet: { url: 'https://f.example' } },
            },
          ],
        },
        null,
        2,
      ),
    );
    const warned = await cli(['validate', file]);
    expect(warned.code).toBe(0);
    expect(warned.out).toBe(
      `${file}:7:9 warning: tenants[0].domains[1]: "a.example" is listed twice in this tenant\n${file}: valid, 1 tenant, 0 rules, 1 warning\n`,
    );
  });

  it('prints every error of an invalid config and exits 1', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(
      file,
      '{"tenants": [{"name": "a", "domains": ["https://a.example"], "enroll": {"intune": {"tenantId": "x"}}}]}',
    );
    const result = await cli(['validate', file]);
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      [
        `${file}:1:40 tenants[0].domains[0]: "https://a.example" has a scheme; write only the domain "a.example"`,
        `${file}:1:96 tenants[0].enroll.intune.tenantId: "x" is not a GUID; use your Microsoft Entra tenant ID (Entra admin center > Overview > Tenant ID), like 6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a`,
        `${file}: invalid, 2 errors`,
        '',
      ].join('\n'),
    );
  });
});

describe('mdm-discovery init', () => {
  it.each([
    [
      ['--intune-tenant', '6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a', '--cloud', 'usgov'],
      { intune: { cloud: 'usgov', tenantId: '6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a' } },
    ],
    [
      ['--jamf', 'https://c.jamfcloud.com', '--enrollment', 'device'],
      { jamf: { url: 'https://c.jamfcloud.com', enrollment: 'device' } },
    ],
    [['--fleet', 'https://fleet.c.example'], { fleet: { url: 'https://fleet.c.example' } }],
    [
      ['--base-url', 'https://mdm.c.example/e', '--version', 'mdm-adde'],
      { version: 'mdm-adde', baseUrl: 'https://mdm.c.example/e' },
    ],
  ])('writes a valid starter config for %j', async (flags, enroll) => {
    const output = join(dir, `init-${flags[0]?.slice(2)}.json`);
    const result = await cli([
      'init',
      '--domain',
      'contoso.example',
      '--domain',
      '*.contoso.example',
      ...flags,
      '--output',
      output,
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toContain(`wrote ${output}\n`);
    const written = JSON.parse(await readFile(output, 'utf8')) as { tenants: unknown[] };
    expect(written.tenants).toEqual([
      { name: 'contoso', domains: ['contoso.example', '*.contoso.example'], enroll },
    ]);
    expect((await loadConfig(output)).tenants).toHaveLength(1);
  });

  it("names the vendor table's warning for a hand-given BaseURL, and refuses a known wrong host", async () => {
    const output = join(dir, 'jamf-adde.json');
    const warned = await cli([
      'init',
      '--domain',
      'c.example',
      '--base-url',
      'https://jamf.c.example:8443/servicediscoveryenrollment/v1/userenroll',
      '--version',
      'mdm-adde',
      '--output',
      output,
    ]);
    expect(warned.code).toBe(0);
    expect(warned.err).toContain(
      'warning: tenants[0].enroll.baseUrl: "mdm-adde" with Jamf Pro (its User Enrollment path, documented by the vendor)',
    );
    const never = join(dir, 'windows.json');
    const refused = await cli([
      'init',
      '--domain',
      'c.example',
      '--base-url',
      'https://enterpriseenrollment.c.example/EnrollmentServer/Discovery.svc',
      '--version',
      'mdm-byod',
      '--output',
      never,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      "is Windows' enrollment host (EnterpriseEnrollment), not Apple's",
    );
    await expect(readFile(never, 'utf8')).rejects.toThrow();
  });

  it("refuses a domain under Apple's reserved appleaccount.com", async () => {
    const output = join(dir, 'reserved.json');
    const result = await cli([
      'init',
      '--domain',
      'contoso.appleaccount.com',
      '--fleet',
      'https://f.example',
      '--output',
      output,
    ]);
    expect(result.code).toBe(1);
    expect(result.err).toContain('a domain Apple reserves for Apple Business accounts');
  });

  it('refuses to overwrite a file', async () => {
    const output = join(dir, 'exists.json');
    await writeFile(output, 'mine');
    const result = await cli([
      'init',
      '--domain',
      'c.example',
      '--fleet',
      'https://f.example',
      '--output',
      output,
    ]);
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      `mdm-discovery init: ${output} exists; not overwritten (choose --output or remove it)\n`,
    );
    expect(await readFile(output, 'utf8')).toBe('mine');
  });

  it('validates before writing, and writes nothing when invalid', async () => {
    const output = join(dir, 'never.json');
    const result = await cli([
      'init',
      '--domain',
      'c.example',
      '--intune-tenant',
      'YourAADTenantID',
      '--output',
      output,
    ]);
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      'tenants[0].enroll.intune.tenantId: "YourAADTenantID" still holds the placeholder',
    );
    await expect(readFile(output)).rejects.toThrow(/ENOENT/);
  });

  it('exits 2 for missing or conflicting flags', async () => {
    for (const args of [
      ['init', '--fleet', 'https://f.example'],
      ['init', '--domain', 'c.example'],
      [
        'init',
        '--domain',
        'c.example',
        '--fleet',
        'https://f.example',
        '--jamf',
        'https://j.example',
      ],
      ['init', '--domain', 'c.example', '--fleet', 'https://f.example', '--cloud', 'usgov'],
    ]) {
      expect((await cli(args)).code).toBe(2);
    }
  });
});
