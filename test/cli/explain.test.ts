import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH } from '../../src/config/load.js';
import { cliInProcess } from '../helpers/cli.js';

const cli = cliInProcess;

const config = ['--config', DEFAULT_CONFIG_PATH];

describe('mdm-discovery explain', () => {
  it('shows the tenant, each rule checked and why, and the exact response', async () => {
    const result = await cli([
      'explain',
      '--host',
      'fabrikam.example',
      '--user',
      'joe@fabrikam.example',
      '--model-family',
      'Mac',
      ...config,
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toBe(
      [
        'config   (embedded demo config)',
        'request  GET /.well-known/com.apple.remotemanagement?user-identifier=joe%40fabrikam.example&model-family=Mac',
        '         Host: fabrikam.example',
        'tenant   "fabrikam" (chosen by host)',
        'rules',
        '  1. macs-to-device-enrollment: matched',
        '       yes  modelFamilies [Mac, RealityDevice]',
        'decision enroll by rule "macs-to-device-enrollment"',
        '',
        'HTTP/1.1 200 OK',
        "content-security-policy: default-src 'none';frame-ancestors 'none'",
        'cross-origin-resource-policy: same-origin',
        'referrer-policy: no-referrer',
        'strict-transport-security: max-age=31536000',
        'x-content-type-options: nosniff',
        'x-frame-options: DENY',
        'content-type: application/json',
        'cache-control: no-store',
        'content-length: 122',
        '',
        '{"Servers":[{"Version":"mdm-adde","BaseURL":"https://fabrikam.jamfcloud.com/servicediscoveryenrollment/v1/deviceenroll"}]}',
        '',
      ].join('\n'),
    );
  });

  it('prints the same as JSON, with the rule trace, for a rejection', async () => {
    const result = await cli([
      'explain',
      '--host',
      'contoso.example',
      '--user',
      'joe@contoso.example',
      '--model-family',
      'Watch',
      '--json',
      ...config,
    ]);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.out) as Record<string, unknown>;
    expect(json).toMatchObject({
      config: '(embedded demo config)',
      request: {
        host: 'contoso.example',
        userIdentifier: 'joe@contoso.example',
        modelFamily: 'Watch',
      },
      tenant: 'contoso',
      tenantBy: 'host',
      rule: 'no-tv-or-watch',
      outcome: 'reject',
      rules: [
        {
          rule: 'no-tv-or-watch',
          matched: true,
          conditions: [{ label: 'modelFamilies [AppleTV, Watch]', held: true }],
        },
      ],
      response: {
        status: 403,
        body: '{"code":"com.apple.well-known.failed","message":"This device cannot enroll at Contoso. Ask IT for help.","description":"rule no-tv-or-watch"}',
      },
    });
  });

  it('says when no rule matched and the tenant default decided, and when no tenant serves the host', async () => {
    const fallthrough = await cli([
      'explain',
      '--host',
      'contoso.example',
      '--model-family',
      'iPhone',
      ...config,
    ]);
    expect(fallthrough.out).toContain(
      '  1. no-tv-or-watch: no match\n       no   modelFamilies [AppleTV, Watch]\n',
    );
    expect(fallthrough.out).toContain("decision enroll by the tenant's own action\n");
    const unknown = await cli(['explain', '--host', 'nobody.example', ...config]);
    expect(unknown.out).toContain(
      'tenant   none: no tenant serves this host\ndecision unknown_host\n\nHTTP/1.1 404 Not Found\n',
    );
  });

  it('exits 2 without --host, and 1 for an invalid config', async () => {
    const usage = await cli(['explain']);
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('mdm-discovery explain: --host is required');
    const invalid = await cli([
      'explain',
      '--host',
      'x.example',
      '--config',
      '/nonexistent/config.json',
    ]);
    expect(invalid.code).toBe(1);
    expect(invalid.err).toContain('/nonexistent/config.json (root): no such file or directory');
  });
});

describe('colour', () => {
  const args = ['explain', '--host', 'fabrikam.example', '--model-family', 'Mac', ...config];
  const ESC = '\u001b[';

  it.each([
    ['a terminal', {}, true, true],
    ['a terminal with NO_COLOR', { NO_COLOR: '1' }, true, false],
    ['a terminal with FORCE_COLOR=0', { FORCE_COLOR: '0' }, true, false],
    ['a pipe', {}, false, false],
    ['a pipe with FORCE_COLOR', { FORCE_COLOR: '1' }, false, true],
    ['FORCE_COLOR over NO_COLOR', { FORCE_COLOR: '1', NO_COLOR: '1' }, false, true],
  ] as const)('%s: coloured %s', async (_label, env, tty, coloured) => {
    const result = await cliInProcess(args, env, { tty });
    expect(result.code).toBe(0);
    expect(result.out.includes(ESC)).toBe(coloured);
  });
});
