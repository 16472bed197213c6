import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConfig } from '../../src/config/compile.js';
import { type Config, parseConfig } from '../../src/config/load.js';
import { decide } from '../../src/discovery/decide.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';
import { TENANT_ID, WELL_KNOWN } from '../helpers/app.js';
import { inject } from '../helpers/dispatch.js';

const OLD_MDM = `https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=${TENANT_ID}`;
const COHORT_SIZE = 100_000;

/** A migration tenant with one rule per condition, one per action, and combinations. */
const ROUTED = {
  serviceHosts: ['discovery.provider.example'],
  tenants: [
    {
      name: 'migrate',
      domains: ['migrate.example'],
      enroll: { intune: { tenantId: TENANT_ID } },
      rules: [
        {
          name: 'no-tv-or-watch',
          when: { modelFamilies: ['AppleTV', 'Watch'] },
          reject: {
            message: 'This device cannot enroll here. Ask IT.',
            description: 'rule no-tv-or-watch',
          },
        },
        {
          name: 'vip',
          when: { users: ['CEO@migrate.example'] },
          enroll: { jamf: { url: 'https://new.jamfcloud.com', enrollment: 'device' } },
        },
        {
          name: 'cohort-1',
          when: { usersFile: 'cohort-1.txt' },
          redirect: {
            url: 'https://new-mdm.example/.well-known/com.apple.remotemanagement?tenant=7&model-family=x',
            status: 307,
          },
        },
        {
          name: 'eu',
          when: { userDomains: ['*.eu.migrate.example'] },
          enroll: { fleet: { url: 'https://fleet.migrate.example' } },
        },
        { name: 'testers', when: { userPatterns: ['test-*@migrate.example'] }, notFound: true },
        {
          name: 'macs',
          when: { modelFamilies: ['Mac', 'RealityDevice'] },
          enroll: { version: 'mdm-adde', baseUrl: 'https://adde.migrate.example/enroll' },
        },
        {
          name: 'old-ipads-without-family',
          when: { modelFamilies: ['absent', 'unknown'], userDomains: ['migrate.example'] },
          redirect: { url: 'https://legacy.migrate.example/discover' },
        },
        {
          name: 'pilot',
          when: { percent: 10, modelFamilies: ['iPhone'] },
          enroll: { version: 'mdm-byod', baseUrl: 'https://pilot.migrate.example/byod' },
        },
      ],
    },
    {
      name: 'customer',
      domains: ['customer.example'],
      enroll: { fleet: { url: 'https://fleet.customer.example' } },
    },
  ],
};

/** 100,000 listed users; cohort1-user42@migrate.example is one of them. */
const cohortText = Array.from(
  { length: COHORT_SIZE },
  (_, i) => `cohort1-user${i}@migrate.example`,
).join('\n');

function routedConfig(): Config {
  return parseConfig([{ file: 'routed.json', text: JSON.stringify(ROUTED) }], {
    readText: (path) => {
      if (!path.endsWith('/cohort-1.txt'))
        throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      return cohortText;
    },
  });
}

let app: FastifyInstance;
const logSink = new PassThrough();
let logText = '';
logSink.on('data', (chunk: Buffer) => {
  logText += chunk.toString();
});

beforeAll(async () => {
  app = await buildApp({
    config: routedConfig(),
    logger: createLogger({ level: 'info', format: 'json', destination: logSink }),
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
});

function ask(
  user?: string,
  family?: string,
  host = 'migrate.example',
  method: 'GET' | 'HEAD' = 'GET',
) {
  const query = [
    user === undefined ? undefined : `user-identifier=${encodeURIComponent(user)}`,
    family === undefined ? undefined : `model-family=${family}`,
  ].filter(Boolean);
  return inject(app, {
    method,
    url: query.length ? `${WELL_KNOWN}?${query.join('&')}` : WELL_KNOWN,
    headers: { host },
  });
}

const servers = (version: string, baseUrl: string) =>
  `{"Servers":[{"Version":"${version}","BaseURL":"${baseUrl}"}]}`;
const NOT_FOUND = '{"code":"not_found","message":"Not Found"}';
const REJECTED =
  '{"code":"com.apple.well-known.failed","message":"This device cannot enroll here. Ask IT.","description":"rule no-tv-or-watch"}';

/** Picks a user outside the 10% pilot (a stable fact of the hash, checked by the test that uses it). */
function userOutsidePilot(): string {
  const table = compileConfig(routedConfig());
  for (let i = 0; ; i++) {
    const user = `plain${i}@migrate.example`;
    const d = decide(table, {
      host: 'migrate.example',
      search: `user-identifier=${user}&model-family=iPhone`,
    });
    if (d.rule === undefined) return user;
  }
}

describe('routing rules through the app', () => {
  it.each([
    // [what, user, family, status, body]
    ['each model family that is refused', 'joe@migrate.example', 'Watch', 403, REJECTED],
    ['AppleTV too', 'joe@migrate.example', 'AppleTV', 403, REJECTED],
    [
      'a refused family wins over a listed user (rule order)',
      'ceo@migrate.example',
      'Watch',
      403,
      REJECTED,
    ],
    [
      'a listed user, case-insensitively',
      'Ceo@Migrate.Example',
      'iPhone',
      200,
      servers('mdm-adde', 'https://new.jamfcloud.com/servicediscoveryenrollment/v1/deviceenroll'),
    ],
    [
      'a user domain wildcard',
      'ann@paris.eu.migrate.example',
      'iPad',
      200,
      servers('mdm-byod', 'https://fleet.migrate.example/api/mdm/apple/account_driven_enroll'),
    ],
    ['a user pattern, with notFound', 'test-42@migrate.example', 'iPhone', 404, NOT_FOUND],
    [
      'Mac',
      'joe@migrate.example',
      'Mac',
      200,
      servers('mdm-adde', 'https://adde.migrate.example/enroll'),
    ],
    [
      'RealityDevice',
      'joe@migrate.example',
      'RealityDevice',
      200,
      servers('mdm-adde', 'https://adde.migrate.example/enroll'),
    ],
    [
      'iPad falls through to the tenant default',
      'joe@migrate.example',
      'iPad',
      200,
      servers('mdm-byod', OLD_MDM),
    ],
    [
      'no user-identifier matches no user condition',
      undefined,
      'iPad',
      200,
      servers('mdm-byod', OLD_MDM),
    ],
    ['no user and no family: the default', undefined, undefined, 200, servers('mdm-byod', OLD_MDM)],
  ] as const)('%s', async (_what, user, family, status, body) => {
    const res = await ask(user, family);
    expect(res.statusCode).toBe(status);
    expect(res.body).toBe(body);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers a listed user of a 100,000-line users file with a redirect that keeps the query', async () => {
    const res = await ask('Cohort1-User42@migrate.example', 'iPhone');
    expect(res.statusCode).toBe(307);
    // The request's values replace the target's own model-family; the target's other parameters stay.
    expect(res.headers.location).toBe(
      'https://new-mdm.example/.well-known/com.apple.remotemanagement?tenant=7&user-identifier=Cohort1-User42%40migrate.example&model-family=iPhone',
    );
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-length']).toBe('0');
    expect(res.headers['content-type']).toBeUndefined();
    expect(res.body).toBe('');
  });

  it("keeps the target's own parameter when the request does not send that one", async () => {
    const res = await ask('cohort1-user7@migrate.example');
    expect(res.headers.location).toBe(
      'https://new-mdm.example/.well-known/com.apple.remotemanagement?tenant=7&model-family=x&user-identifier=cohort1-user7%40migrate.example',
    );
  });

  it('redirects with 302 by default, carrying the parameters to a target without a query', async () => {
    const res = await ask('joe@migrate.example', 'Toaster');
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(
      'https://legacy.migrate.example/discover?user-identifier=joe%40migrate.example&model-family=Toaster',
    );
    const absent = await ask('joe@migrate.example');
    expect(absent.headers.location).toBe(
      'https://legacy.migrate.example/discover?user-identifier=joe%40migrate.example',
    );
  });

  it('combines conditions: absent family alone is not enough without the user domain', async () => {
    const res = await ask('joe@elsewhere.example');
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(servers('mdm-byod', OLD_MDM));
  });

  it('answers HEAD of a redirect and of a rejection like GET, without a body', async () => {
    for (const [user, family] of [
      ['cohort1-user1@migrate.example', 'Mac'],
      ['joe@migrate.example', 'Watch'],
    ] as const) {
      const get = await ask(user, family);
      const head = await ask(user, family, 'migrate.example', 'HEAD');
      expect(head.statusCode).toBe(get.statusCode);
      const { date: _a, ...g } = get.headers;
      const { date: _b, ...h } = head.headers;
      expect(h).toEqual(g);
      expect(head.body).toBe('');
    }
  });

  it('sends a stable 10% of iPhone users to the pilot, the same across a restart', async () => {
    const users = Array.from({ length: 300 }, (_, i) => `person${i}@migrate.example`);
    const first = await Promise.all(users.map(async (u) => (await ask(u, 'iPhone')).body));
    const again = await buildApp({ config: routedConfig() });
    const second = await Promise.all(
      users.map(
        async (u) =>
          (
            await inject(again, {
              url: `${WELL_KNOWN}?user-identifier=${u}&model-family=iPhone`,
              headers: { host: 'migrate.example' },
            })
          ).body,
      ),
    );
    await again.close();
    expect(second).toEqual(first);
    const pilot = first.filter((b) => b.includes('pilot.migrate.example')).length;
    expect(pilot).toBeGreaterThan(10);
    expect(pilot).toBeLessThan(60);
    expect(await ask(userOutsidePilot(), 'iPhone').then((r) => r.body)).toBe(
      servers('mdm-byod', OLD_MDM),
    );
  });

  it('spreads 10% of 100,000 synthetic users within a percent of 10%', () => {
    const table = compileConfig(routedConfig());
    let pilot = 0;
    for (let i = 0; i < COHORT_SIZE; i++) {
      const d = decide(table, {
        host: 'migrate.example',
        search: `user-identifier=spread${i}@migrate.example&model-family=iPhone`,
      });
      if (d.rule === 'pilot') pilot++;
    }
    expect(Math.abs(pilot / COHORT_SIZE - 0.1)).toBeLessThan(0.01);
  });

  it("chooses the tenant by the user-identifier domain on the service's own host", async () => {
    const own = 'discovery.provider.example';
    expect((await ask('joe@customer.example', 'iPhone', own)).body).toBe(
      servers('mdm-byod', 'https://fleet.customer.example/api/mdm/apple/account_driven_enroll'),
    );
    expect((await ask('ceo@MIGRATE.example', 'iPhone', own)).body).toBe(
      servers('mdm-adde', 'https://new.jamfcloud.com/servicediscoveryenrollment/v1/deviceenroll'),
    );
    for (const user of ['joe@unknown.example', undefined, 'no-at-sign']) {
      const res = await ask(user, 'iPhone', own);
      expect(res.statusCode).toBe(404);
      expect(res.body).toBe(NOT_FOUND);
    }
    // A customer's own domain is still chosen by Host.
    expect((await ask(undefined, undefined, 'customer.example')).statusCode).toBe(200);
  });

  it('names the deciding rule in the log line', async () => {
    logText = '';
    await ask('joe@migrate.example', 'Mac');
    await ask('joe@migrate.example', 'iPad');
    const lines = logText
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.tenant, l.rule, l.outcome, l.status])).toEqual([
      ['migrate', 'macs', 'enroll', 200],
      ['migrate', undefined, 'enroll', 200],
    ]);
  });
});
