import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/problems.js';
import { TENANT_ID } from '../helpers/app.js';
import { problemLines, withoutPlace } from '../helpers/config.js';

const intune = { intune: { tenantId: TENANT_ID } };

const problems = problemLines;

const one = (tenant: object) => ({
  tenants: [{ name: 't', domains: ['t.example'], enroll: intune, ...tenant }],
});

describe('config validation', () => {
  it('accepts every preset and resolves its BaseURL', () => {
    const config = parseConfig([
      {
        file: 'c.json',
        text: JSON.stringify({
          tenants: [
            { name: 'a', domains: ['a.example'], enroll: { intune: { tenantId: TENANT_ID } } },
            {
              name: 'b',
              domains: ['b.example'],
              enroll: { intune: { cloud: 'usgov', tenantId: TENANT_ID } },
            },
            {
              name: 'c',
              domains: ['c.example'],
              enroll: { intune: { cloud: 'china', tenantId: TENANT_ID } },
            },
            {
              name: 'd',
              domains: ['d.example'],
              enroll: { jamf: { url: 'https://d.jamfcloud.com/' } },
            },
            {
              name: 'e',
              domains: ['e.example'],
              enroll: { jamf: { url: 'https://e.jamfcloud.com', enrollment: 'device' } },
            },
            {
              name: 'f',
              domains: ['f.example'],
              enroll: { fleet: { url: 'https://fleet.f.example' } },
            },
            {
              name: 'g',
              domains: ['g.example'],
              enroll: { version: 'mdm-adde', baseUrl: 'https://mdm.g.example/x?y=1' },
            },
          ],
        }),
      },
    ]);
    expect(
      config.tenants.map(
        (t) => t.action.kind === 'enroll' && [t.action.server.version, t.action.server.baseUrl],
      ),
    ).toEqual([
      [
        'mdm-byod',
        `https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=${TENANT_ID}`,
      ],
      [
        'mdm-byod',
        `https://manage.microsoft.us/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=${TENANT_ID}`,
      ],
      [
        'mdm-byod',
        `https://manage.microsoft.cn/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=${TENANT_ID}`,
      ],
      ['mdm-byod', 'https://d.jamfcloud.com/servicediscoveryenrollment/v1/userenroll'],
      ['mdm-adde', 'https://e.jamfcloud.com/servicediscoveryenrollment/v1/deviceenroll'],
      ['mdm-byod', 'https://fleet.f.example/api/mdm/apple/account_driven_enroll'],
      ['mdm-adde', 'https://mdm.g.example/x?y=1'],
    ]);
  });

  it('normalises case, a trailing dot and Unicode domains', () => {
    const config = parseConfig([
      {
        file: 'c.json',
        text: JSON.stringify(one({ domains: ['Contoso.COM.', '*.Bücher.Example'] })),
      },
    ]);
    expect(config.tenants[0]?.domains).toEqual(['contoso.com', '*.xn--bcher-kva.example']);
  });

  it('reports every error at once, in file order, with line, column, JSON path and fix', () => {
    const text = `{
  "tenants": [
    {
      "name": "contoso",
      "domains": ["Contoso.com ", "https://contoso.org/x", "contoso.net:443"],
      "enroll": { "intune": { "cloud": "commercial", "tenantId": "YourAADTenantID" } }
    },
    {
      "name": "fab rikam",
      "domain": ["fabrikam.com"],
      "enroll": { "intnue": { "tenantId": "${TENANT_ID}" } }
    },
    {
      "name": "nw",
      "domains": ["northwind.com"],
      "enroll": { "version": "mdm-foo", "baseUrl": "http://user:pw@mdm.northwind.com/x#frag" }
    }
  ]
}`;
    expect(problems(text, 'config/tenants.json')).toEqual([
      'config/tenants.json:5:19 tenants[0].domains[0]: "Contoso.com " has trailing whitespace; write "Contoso.com"',
      'config/tenants.json:5:35 tenants[0].domains[1]: "https://contoso.org/x" has a scheme; write only the domain "contoso.org"',
      'config/tenants.json:5:60 tenants[0].domains[2]: "contoso.net:443" has a port; devices always ask on https port 443, so write "contoso.net"',
      'config/tenants.json:6:66 tenants[0].enroll.intune.tenantId: "YourAADTenantID" still holds the placeholder "YourAADTenantID"; replace it with your Microsoft Entra tenant ID (a GUID: Entra admin center > Overview > Tenant ID)',
      'config/tenants.json:8:5 tenants[1]: unknown key "domain"; did you mean "domains"?',
      'config/tenants.json:9:15 tenants[1].name: must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit (it labels logs and metrics)',
      'config/tenants.json:11:17 tenants[1].enroll: unknown key "intnue"; did you mean "intune"?',
      'config/tenants.json:16:30 tenants[2].enroll.version: "mdm-foo" is not allowed; use one of "mdm-byod", "mdm-adde"',
      'config/tenants.json:16:52 tenants[2].enroll.baseUrl: "http://user:pw@mdm.northwind.com/x#frag" must use https (Apple devices enroll only over TLS), must not contain credentials, must not have a fragment; write "https://mdm.northwind.com/x"',
    ]);
  });

  it.each([
    [
      'YourAADTenantID',
      'enroll.baseUrl',
      `https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=YourAADTenantID`,
      'YourAADTenantID',
    ],
    [
      'aadTenantID',
      'enroll.baseUrl',
      'https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=aadTenantID',
      'aadTenantID',
    ],
    ['undefined', 'enroll.baseUrl', 'https://mdm.example/x?tenant=undefined', 'undefined'],
    ['null', 'enroll.baseUrl', 'https://mdm.example/null/enroll', 'null'],
    [
      '<…>',
      'enroll.baseUrl',
      'https://<jamf-host>/servicediscoveryenrollment/v1/userenroll',
      '<jamf-host>',
    ],
    ['{{…}}', 'enroll.baseUrl', 'https://mdm.example/{{tenant}}', '{{tenant}}'],
    ['TODO', 'enroll.baseUrl', 'https://mdm.example/TODO', 'TODO'],
    ['REPLACE…', 'enroll.baseUrl', 'https://REPLACE_ME.example/enroll', 'REPLACE_ME'],
  ])('refuses the leftover placeholder %s', (_label, _field, baseUrl, found) => {
    expect(problems(one({ enroll: { version: 'mdm-byod', baseUrl } }))).toEqual([
      `c.json:10:20 tenants[0].enroll.baseUrl: "${baseUrl}" still holds the placeholder "${found}"; replace it with the BaseURL your MDM console shows`,
    ]);
  });

  it.each([
    ['contoso.appleaccount.com', 'appleaccount.com'],
    ['*.appleaccount.com', 'appleaccount.com'],
    ['Contoso.AppleID.com.', 'appleid.com'],
    ['appleid.com', 'appleid.com'],
  ])('refuses %s: Apple answers for its reserved domains', (domain, reserved) => {
    expect(problems(one({ domains: [domain] }))).toEqual([
      `c.json:6:9 tenants[0].domains[0]: "${domain}" is under ${reserved}, a domain Apple reserves for Apple Business accounts: Apple answers discovery for those accounts itself, and no organisation's server is asked. Leave it out; to send those devices to your MDM, assign it in Apple Business`,
    ]);
  });

  it('accepts names that only look like the reserved domains', () => {
    for (const domain of ['myappleaccount.com', 'appleaccount.com.example', 'appleid.co']) {
      expect(problems(one({ domains: [domain] })), domain).toEqual([]);
    }
  });

  it('refuses a placeholder in a domain', () => {
    expect(problems(one({ domains: ['<your-domain>'] }))).toEqual([
      'c.json:6:9 tenants[0].domains[0]: "<your-domain>" still holds the placeholder "<your-domain>"; replace it with the domain of your users\' accounts',
    ]);
  });

  it.each([
    [
      { tenantId: 'contoso.onmicrosoft.com' },
      'tenants[0].enroll.intune.tenantId: "contoso.onmicrosoft.com" is not a GUID; use your Microsoft Entra tenant ID (Entra admin center > Overview > Tenant ID), like 6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a',
    ],
    [
      { tenantId: TENANT_ID, cloud: 'gcchigh' },
      'tenants[0].enroll.intune.cloud: "gcchigh" is not allowed; use one of "commercial", "usgov", "china"',
    ],
    [
      { tenantid: TENANT_ID },
      'tenants[0].enroll.intune: unknown key "tenantid"; did you mean "tenantId"?',
    ],
  ])('refuses an Intune preset %j', (preset, message) => {
    expect(problems(one({ enroll: { intune: preset } })).map(stripPlace)).toEqual([message]);
  });

  it.each([
    ['Contoso.com ', '"Contoso.com " has trailing whitespace; write "Contoso.com"'],
    [' contoso.com', '" contoso.com" has leading whitespace; write "contoso.com"'],
    [
      'https://contoso.com',
      '"https://contoso.com" has a scheme; write only the domain "contoso.com"',
    ],
    [
      'contoso.com/.well-known',
      '"contoso.com/.well-known" has a path; write only the domain "contoso.com" (the service answers /.well-known/com.apple.remotemanagement itself)',
    ],
    [
      'contoso.com:8443',
      '"contoso.com:8443" has a port; devices always ask on https port 443, so write "contoso.com"',
    ],
    ['joe@contoso.com', '"joe@contoso.com" is an e-mail address; write its domain "contoso.com"'],
    ['con toso.com', '"con toso.com" contains whitespace; a domain has none'],
    [
      'contoso',
      '"contoso" is not a valid domain name: it needs two or more labels of 1-63 letters, digits or hyphens (not at either end of a label)',
    ],
    [
      '-contoso.com',
      '"-contoso.com" is not a valid domain name: it needs two or more labels of 1-63 letters, digits or hyphens (not at either end of a label)',
    ],
    [
      'a.*.contoso.com',
      '"a.*.contoso.com" has a "*" inside; only a leading "*." wildcard is supported',
    ],
    [
      '10.0.0.1',
      '"10.0.0.1" is not a valid domain name: it needs two or more labels of 1-63 letters, digits or hyphens (not at either end of a label)',
    ],
  ])('refuses the domain %j', (domain, message) => {
    expect(problems(one({ domains: [domain] })).map(stripPlace)).toEqual([
      `tenants[0].domains[0]: ${message}`,
    ]);
  });

  it.each([
    [
      'ftp://mdm.example/x',
      '"ftp://mdm.example/x" must use https (Apple devices enroll only over TLS); write "https://mdm.example/x"',
    ],
    [
      'https://mdm.example/x#y',
      '"https://mdm.example/x#y" must not have a fragment; write "https://mdm.example/x"',
    ],
    [
      'https://u@mdm.example/x',
      '"https://u@mdm.example/x" must not contain credentials; write "https://mdm.example/x"',
    ],
    ['/enroll', '"/enroll" is not an absolute URL; write it as https://host/path'],
    ['https://mdm.example/ x', '"https://mdm.example/ x" contains whitespace; remove it'],
    [
      'https://localhost/x',
      '"https://localhost/x" has a host "localhost" that is not a valid domain name',
    ],
  ])('refuses the BaseURL %j', (baseUrl, message) => {
    expect(problems(one({ enroll: { version: 'mdm-byod', baseUrl } })).map(stripPlace)).toEqual([
      `tenants[0].enroll.baseUrl: ${message}`,
    ]);
  });

  it.each([
    [
      {},
      'tenants[0].enroll: says nowhere to enroll; give one of intune, jamf, fleet, version + baseUrl',
    ],
    [
      { fleet: { url: 'https://f.example' }, version: 'mdm-byod' },
      'tenants[0].enroll: gives fleet and version + baseUrl; give exactly one of intune, jamf, fleet, version + baseUrl',
    ],
    [
      { version: 'mdm-byod' },
      'tenants[0].enroll.baseUrl: is required with "version": the BaseURL your MDM console shows',
    ],
    [
      { baseUrl: 'https://mdm.example/x' },
      'tenants[0].enroll.version: is required with "baseUrl": "mdm-byod" (User Enrollment) or "mdm-adde" (Device Enrollment)',
    ],
    [
      { version: 'MDM-BYOD', baseUrl: 'https://mdm.example/x' },
      'tenants[0].enroll.version: "MDM-BYOD" is not allowed; use "mdm-byod"',
    ],
    [
      { jamf: { url: 'https://j.jamfcloud.com/servicediscoveryenrollment/v1/userenroll' } },
      'tenants[0].enroll.jamf.url: give only the Jamf Pro address (https://example.jamfcloud.com); the preset adds /servicediscoveryenrollment/v1/… itself',
    ],
    [
      { fleet: { url: 'https://fleet.example/api/mdm/apple/account_driven_enroll' } },
      'tenants[0].enroll.fleet.url: give only the Fleet server address (https://fleet.example.com); the preset adds /api/mdm/apple/account_driven_enroll itself',
    ],
    [
      { jamf: { url: 'https://j.jamfcloud.com', enrollment: 'User' } },
      'tenants[0].enroll.jamf.enrollment: "User" is not allowed; use "user"',
    ],
    [
      { fleet: { url: 'https://fleet.example?x=1' } },
      'tenants[0].enroll.fleet.url: "https://fleet.example?x=1" must not have a query string; write "https://fleet.example/"',
    ],
  ])('refuses the enroll block %j', (enroll, message) => {
    expect(problems(one({ enroll })).map(stripPlace)).toEqual([message]);
  });

  it('checks a hand-written Intune BaseURL like the preset would build it', () => {
    const baseUrl =
      'https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=contoso';
    expect(problems(one({ enroll: { version: 'mdm-adde', baseUrl } })).map(stripPlace)).toEqual([
      'tenants[0].enroll.baseUrl: aadTenantId must be your Entra tenant ID (a GUID), not "contoso"; or use the "intune" preset',
      'warning: tenants[0].enroll.baseUrl: "mdm-adde" with Microsoft Intune (its User Enrollment path, documented by the vendor), which serves User Enrollment ("mdm-byod"); answer "mdm-byod" for this BaseURL, or use the URL Microsoft Intune gives for the other enrollment',
    ]);
  });

  it.each([
    [
      'mdm-adde',
      'https://jamf.example.com:8443/servicediscoveryenrollment/v1/userenroll',
      'warning: tenants[0].enroll.baseUrl: "mdm-adde" with Jamf Pro (its User Enrollment path, documented by the vendor), which serves User Enrollment ("mdm-byod"); answer "mdm-byod" here, or use Jamf\'s /servicediscoveryenrollment/v1/deviceenroll path for "mdm-adde"',
    ],
    [
      'mdm-byod',
      'https://partner.example/servicediscoveryenrollment/v1/deviceenroll',
      'warning: tenants[0].enroll.baseUrl: "mdm-byod" with Jamf Pro (its Device Enrollment path, observed in public files), which serves Device Enrollment ("mdm-adde"); answer "mdm-adde" here, or use Jamf\'s /servicediscoveryenrollment/v1/userenroll path for "mdm-byod"',
    ],
    [
      'mdm-byod',
      'https://EnterpriseEnrollment.contoso.com/EnrollmentServer/Discovery.svc',
      "tenants[0].enroll.baseUrl: enterpriseenrollment.contoso.com is Windows' enrollment host (EnterpriseEnrollment), not Apple's; publish the BaseURL your MDM console shows for Apple account-driven enrollment (Intune: https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=<your tenant ID>)",
    ],
    [
      'mdm-byod',
      'https://appleconfigurator2.manage.microsoft.com/MDMServiceConfig',
      "tenants[0].enroll.baseUrl: appleconfigurator2.manage.microsoft.com is Intune's host for Apple Configurator profiles, not account-driven enrollment; publish the BaseURL your MDM console shows for Apple account-driven enrollment (Intune: https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=<your tenant ID>)",
    ],
  ])('knows the vendor behind a hand-written BaseURL: %s %s', (version, baseUrl, message) => {
    expect(problems(one({ enroll: { version, baseUrl } })).map(stripPlace)).toEqual([message]);
  });

  it('says nothing of a BaseURL that fits its vendor, or of one it does not know', () => {
    for (const [version, baseUrl] of [
      ['mdm-adde', 'https://jamf.example.com/servicediscoveryenrollment/v1/deviceenroll'],
      ['mdm-byod', 'https://fleet.example/api/mdm/apple/account_driven_enroll'],
      [
        'mdm-byod',
        'https://apple.mdm.jumpcloud.com/user-enroll?organization_id=0123456789abcdef01234567',
      ],
      ['mdm-adde', 'https://acme.hexnodemdm.com/userenroll/'],
      ['mdm-adde', 'https://mdm.example.org/enroll'],
    ]) {
      expect(problems(one({ enroll: { version, baseUrl } })), baseUrl).toEqual([]);
    }
  });

  it('warns about a host that repeats its last label, without refusing it', () => {
    expect(problems(one({ enroll: { jamf: { url: 'https://x.jamfcloud.com.com' } } }))).toEqual([
      'c.json:8:17 warning: tenants[0].enroll: the host "x.jamfcloud.com.com" repeats its last label; did you mean "x.jamfcloud.com"?',
    ]);
  });

  it('refuses duplicate tenant names and a domain in two tenants, naming both', () => {
    const document = {
      tenants: [
        { name: 'a', domains: ['Shared.example'], enroll: intune },
        { name: 'a', domains: ['b.example', 'shared.example.', 'b.example'], enroll: intune },
      ],
    };
    expect(problems(document).map(stripPlace)).toEqual([
      'tenants[1].name: "a" is also the name of c.json tenants[0]; tenant names must be unique',
      'tenants[1].domains[1]: "shared.example" is already served by tenant "a" (c.json tenants[0].domains[0]); a domain belongs to one tenant',
      'warning: tenants[1].domains[2]: "b.example" is listed twice in this tenant',
    ]);
  });

  it('refuses unknown top-level keys and a config with no tenant', () => {
    expect(problems({ tenant: [] })).toEqual([
      'c.json:1:1 (root): unknown key "tenant"; did you mean "tenants"?',
    ]);
    expect(problems({ tenants: [] })).toEqual([
      'c.json:2:14 tenants: no tenant is configured; add one (see config/examples/)',
    ]);
  });

  it.each([
    [
      '{\n  "tenants": [ // the first\n  ]\n}',
      'c.json:2:16 (root): not valid JSON: expected a value; JSON does not allow comments; remove them',
    ],
    [
      '{"tenants": [],}',
      'c.json:1:16 (root): not valid JSON: expected a double-quoted key; remove the trailing comma',
    ],
    [
      "{'tenants': []}",
      'c.json:1:2 (root): not valid JSON: expected a double-quoted key; JSON strings and keys need double quotes',
    ],
    [
      '{"tenants": []',
      'c.json:1:15 (root): not valid JSON: expected "," or "}"; fix the JSON syntax',
    ],
    ['', 'c.json:1:1 (root): not valid JSON: expected a value; fix the JSON syntax'],
  ])('names the line of a JSON syntax error in %j', (text, message) => {
    expect(problems(text)).toEqual([message]);
  });

  it('accepts a file that starts with a byte order mark', () => {
    expect(problems(`\uFEFF${JSON.stringify(one({}))}`)).toEqual([]);
  });
});

const stripPlace = withoutPlace;

describe('loadConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdm-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('merges a directory of JSON files, one per tenant, and checks them together', async () => {
    await writeFile(
      join(dir, 'a.json'),
      JSON.stringify({ tenants: [{ name: 'a', domains: ['a.example'], enroll: intune }] }),
    );
    await writeFile(
      join(dir, 'b.json'),
      JSON.stringify({ tenants: [{ name: 'b', domains: ['b.example'], enroll: intune }] }),
    );
    await writeFile(join(dir, 'notes.txt'), 'not config');
    expect(
      (await loadConfig(dir)).tenants.map((t) => [
        t.name,
        t.source.file.endsWith('b.json') ? 'b.json' : 'a.json',
      ]),
    ).toEqual([
      ['a', 'a.json'],
      ['b', 'b.json'],
    ]);
    await writeFile(
      join(dir, 'c.json'),
      JSON.stringify({ tenants: [{ name: 'c', domains: ['A.example'], enroll: intune }] }),
    );
    const error = await loadConfig(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(
      (error as ConfigError).problems.map((p) => [p.file.slice(-6), p.path, p.message]),
    ).toEqual([
      [
        'c.json',
        'tenants[0].domains[0]',
        `"a.example" is already served by tenant "a" (${join(dir, 'a.json')} tenants[0].domains[0]); a domain belongs to one tenant`,
      ],
    ]);
  });

  it('reads a Kubernetes ConfigMap volume: links at the top, hidden ..data skipped', async () => {
    await mkdir(join(dir, '..2026_11_23'));
    await writeFile(join(dir, '..2026_11_23', 'tenants.json'), JSON.stringify(one({})));
    await symlink('..2026_11_23', join(dir, '..data'));
    await symlink(join('..data', 'tenants.json'), join(dir, 'tenants.json'));
    expect((await loadConfig(dir)).tenants.map((t) => t.name)).toEqual(['t']);
  });

  it('names a missing file and an empty directory', async () => {
    await expect(loadConfig(join(dir, 'missing.json'))).rejects.toThrow(
      /missing\.json \(root\): no such file or directory; check MDM_DISCOVERY_CONFIG/,
    );
    await expect(loadConfig(dir)).rejects.toThrow(/\(root\): the directory holds no \*\.json file/);
  });
});

describe('JSON that JSON.parse would take silently', () => {
  it('refuses a key given twice, naming both places', () => {
    const text = `{
  "tenants": [
    {
      "name": "t",
      "domains": ["t.example"],
      "enroll": { "intune": { "tenantId": "YourAADTenantID", "tenantId": "${TENANT_ID}" } },
      "domains": ["other.example"]
    }
  ]
}`;
    expect(problems(text)).toEqual([
      'c.json:6:62 tenants[0].enroll.intune.tenantId: the key is given twice (first at line 6, column 31); JSON keeps only the last, so remove one',
      'c.json:7:7 tenants[0].domains: the key is given twice (first at line 5, column 7); JSON keeps only the last, so remove one',
    ]);
  });

  it('refuses nesting deeper than 64 levels before parsing it, with the line', () => {
    const text = `{"tenants": [\n${'['.repeat(100)}${']'.repeat(100)}]}`;
    expect(problems(text)).toEqual([
      'c.json:2:63 (root): nested more than 64 levels deep; a config needs fewer than 10',
    ]);
  });
});
