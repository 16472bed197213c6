// Deferring to Apple Business is a choice with a name: the appleBusiness action answers the very
// bytes of a 404 (notFound, an unknown host), and says so in explain, the status page, the access
// log and the metrics.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPLE_BUSINESS_DEFERRAL } from '../../src/protocol.js';
import { TENANT_ID, testApp, WELL_KNOWN } from '../helpers/app.js';
import { cliInProcess } from '../helpers/cli.js';
import { problemLines } from '../helpers/config.js';
import { inject } from '../helpers/dispatch.js';
import { type CapturedServer, startCaptured } from '../helpers/server.js';

const CONFIG = {
  tenants: [
    { name: 'abm', domains: ['abm.example'], appleBusiness: true },
    { name: 'hidden', domains: ['hidden.example'], notFound: true },
    {
      name: 'contoso',
      domains: ['contoso.example'],
      enroll: { intune: { tenantId: TENANT_ID } },
      rules: [{ name: 'macs-to-abm', when: { modelFamilies: ['Mac'] }, appleBusiness: true }],
    },
  ],
};

const query = '?user-identifier=joe%40x.example&model-family=Mac';

describe('the appleBusiness action', () => {
  it('answers byte for byte as notFound and as an unknown host, with and without a query', async () => {
    const app = await testApp(CONFIG);
    for (const q of [query, '', '?model-family=iPhone', '?user-identifier=%']) {
      const answers = await Promise.all(
        ['abm.example', 'hidden.example', 'unknown.example'].map((host) =>
          inject(app, { url: `${WELL_KNOWN}${q}`, headers: { host } }),
        ),
      );
      const shape = answers.map((a) => {
        const { date: _date, ...headers } = a.headers;
        return { status: a.statusCode, headers, body: a.body };
      });
      expect(shape[0]?.status, q).toBe(404);
      expect(shape[0], q).toEqual(shape[2]);
      expect(shape[1], q).toEqual(shape[2]);
    }
    // As a rule's action too: a Mac at contoso gets the same 404.
    const mac = await inject(app, {
      url: `${WELL_KNOWN}${query}`,
      headers: { host: 'contoso.example' },
    });
    expect(mac.statusCode).toBe(404);
  });

  it('is refused together with another action, naming both', () => {
    expect(
      problemLines({
        tenants: [{ name: 't', domains: ['t.example'], notFound: true, appleBusiness: true }],
      }).map((l) => l.replace(/^\S+ /, '')),
    ).toEqual([
      'tenants[0]: gives notFound and appleBusiness; give exactly one of enroll, reject, notFound, appleBusiness, redirect',
    ]);
  });

  it('is named by explain, with what it does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mdm-abm-'));
    try {
      const file = join(dir, 'c.json');
      await writeFile(file, JSON.stringify(CONFIG));
      const result = await cliInProcess([
        'explain',
        '--config',
        file,
        '--host',
        'contoso.example',
        '--user',
        'joe@contoso.example',
        '--model-family',
        'Mac',
      ]);
      expect(result.code).toBe(0);
      expect(result.out).toContain(
        `decision apple_business by rule "macs-to-abm"\n         ${APPLE_BUSINESS_DEFERRAL}\n`,
      );
      expect(result.out).toContain('HTTP/1.1 404 Not Found');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the appleBusiness action in the running service', () => {
  let dir: string;
  let server: CapturedServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdm-abm-'));
    const file = join(dir, 'c.json');
    await writeFile(file, JSON.stringify(CONFIG));
    server = await startCaptured(file, { WATCH_CONFIG: 'false' });
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is the outcome of the access log line and of the metrics; the status page says so', async () => {
    const res = await request(`${server.url}${WELL_KNOWN}${query}`, {
      headers: { host: 'abm.example' },
    });
    await res.body.text();
    expect(res.statusCode).toBe(404);
    const line = server
      .logs()
      .split('\n')
      .find((l) => l.includes('"tenant":"abm"'));
    expect(JSON.parse(line as string)).toMatchObject({
      tenant: 'abm',
      outcome: 'apple_business',
      status: 404,
    });
    const metrics = await (await request(`${server.adminUrl}/metrics`)).body.text();
    expect(metrics).toContain(
      'mdm_discovery_requests_total{tenant="abm",outcome="apple_business",status="404"} 1\n',
    );
    const page = await (await request(`${server.adminUrl}/status?q=abm`)).body.text();
    expect(page).toContain('404: defers to Apple Business');
    const explained = await (
      await request(`${server.adminUrl}/status?host=abm.example&family=iPhone`)
    ).body.text();
    expect(explained).toContain('Decision: <b>apple_business</b>');
  });
});
