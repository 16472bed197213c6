// mdm-discovery sync --from cipp against fixtures on loopback with a test CA: the Entra token
// endpoint, CIPP's ListTenants and ListDomains, and the sign-in host's OpenID metadata, through
// --resolve. A 401, a 429 retried, a 5xx that stays, an API failing halfway, a malformed answer and
// a body that never ends: each a clear error, and the directory as it was.
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { CIPP_ENV } from '../../src/sync/cipp.js';
import { cliInProcess } from '../helpers/cli.js';
import { GUID, OTHER_GUID, TENANTS } from '../verify/fixtures.js';
import {
  type ApiFixture,
  clearCredentials,
  formOf,
  networkArgs,
  reply,
  setCredentials,
  startApiFixture,
} from './api-fixture.js';

const PARTNER = '99999999-8888-4777-8666-555555555555';
const CLIENT = 'cipp-app-client-id';

/** What the fixture answers; each test sets what it needs. */
const state = {
  tenants: [] as unknown,
  domains: {} as Record<string, unknown>,
  /** ListTenants answers 429 this many times first. */
  throttled: 0,
  /** ListDomains for this customer answers 503, always. */
  failing: '',
  endless: false,
  asked: [] as string[],
};

let api: ApiFixture;
let out: string;

beforeAll(async () => {
  api = await startApiFixture(
    ['login.microsoftonline.com', 'cipp.test'],
    'login.microsoftonline.com',
    async (req, res, url) => {
      state.asked.push(`${req.method} ${url.host}${url.pathname}${url.search}`);
      if (
        url.hostname === 'login.microsoftonline.com' &&
        url.pathname === `/${PARTNER}/oauth2/v2.0/token`
      ) {
        const form = await formOf(req);
        const ok =
          form.get('grant_type') === 'client_credentials' &&
          form.get('client_id') === CLIENT &&
          form.get('client_secret') === 'secret' &&
          form.get('scope') === `api://${CLIENT}/.default`;
        if (!ok) return reply(res, 401, { error: 'invalid_client' });
        return reply(res, 200, { access_token: 'the-token', token_type: 'Bearer' });
      }
      if (req.headers.authorization !== 'Bearer the-token') return reply(res, 401, {});
      if (url.pathname === '/api/ListTenants') return listTenants(res);
      if (url.pathname === '/api/ListDomains') {
        const id = url.searchParams.get('tenantFilter') ?? '';
        if (id === state.failing) return reply(res, 503, {}, { 'retry-after': '0' });
        return reply(res, 200, state.domains[id] ?? []);
      }
      reply(res, 404, {});
    },
  );
  Object.assign(TENANTS, {
    'contoso.cipp.test': GUID,
    'fabrikam.cipp.test': OTHER_GUID,
  });
}, 30_000);

afterAll(() => api.close());

/** ListTenants: throttled first, or a body that never ends, or the tenants. */
function listTenants(res: import('node:http').ServerResponse) {
  if (state.throttled > 0) {
    state.throttled--;
    return reply(res, 429, {}, { 'retry-after': '0' });
  }
  if (!state.endless) return reply(res, 200, state.tenants);
  res.writeHead(200, { 'content-type': 'application/json' });
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const more = () => {
    while (res.write(chunk)) {
      /* until the buffer is full */
    }
  };
  res.on('drain', more);
  res.on('error', () => {});
  more();
}

beforeEach(async () => {
  out = await mkdtemp(join(api.dir, 'out-'));
  setCredentials(CIPP_ENV, [CLIENT, 'secret', PARTNER]);
  Object.assign(state, {
    tenants: [
      { customerId: GUID, displayName: 'Contoso', defaultDomainName: 'contoso.cipp.test' },
      { customerId: OTHER_GUID, displayName: 'Fabrikam', defaultDomainName: 'fabrikam.cipp.test' },
    ],
    domains: {
      [GUID]: [
        { id: 'contoso.cipp.test', isDefault: true, isInitial: false, isVerified: true },
        { id: 'contoso.onmicrosoft.com', isDefault: false, isInitial: true, isVerified: true },
        { id: 'pending.cipp.test', isDefault: false, isInitial: false, isVerified: false },
      ],
      [OTHER_GUID]: [
        { id: 'fabrikam.cipp.test', isDefault: true, isInitial: false, isVerified: true },
      ],
    },
    throttled: 0,
    failing: '',
    endless: false,
    asked: [],
  });
});

afterEach(() => {
  clearCredentials(CIPP_ENV);
});

const sync = (...args: string[]) =>
  cliInProcess([
    'sync',
    '--from',
    'cipp',
    '--url',
    'https://cipp.test',
    '--out',
    out,
    ...networkArgs(api),
    '--timeout',
    '5',
    ...args,
  ]);

const files = async () => (await readdir(out)).sort();

describe('mdm-discovery sync --from cipp', () => {
  it("writes each customer's verified domains, proved; a second run changes nothing", async () => {
    const first = await sync('--all');
    expect(first.err).toBe('');
    expect(first.code).toBe(3);
    expect(await files()).toEqual(['sync-contoso-6f0c8a5e.json', 'sync-fabrikam-0b1d2c3e.json']);
    const config = await loadConfig(out);
    expect(config.tenants.map((t) => [t.name, t.domains, t.sync?.from])).toEqual([
      ['contoso-6f0c8a5e', ['contoso.cipp.test'], 'cipp:https://cipp.test'],
      ['fabrikam-0b1d2c3e', ['fabrikam.cipp.test'], 'cipp:https://cipp.test'],
    ]);
    const second = await sync();
    expect(second.code).toBe(0);
    expect(second.out).toContain('"outcome":"unchanged"');
  });

  it('asks CIPP for the domains of the customers it takes only', async () => {
    const result = await sync('--include', 'Contoso');
    expect(result.code).toBe(3);
    const domainCalls = state.asked.filter((a) => a.includes('/api/ListDomains'));
    expect(domainCalls).toEqual([`GET cipp.test/api/ListDomains?tenantFilter=${GUID}`]);
  });

  it('retries a 429 (Retry-After) and goes on', async () => {
    state.throttled = 2;
    const result = await sync('--all');
    expect(result.code).toBe(3);
    expect(state.asked.filter((a) => a.endsWith('/api/ListTenants'))).toHaveLength(3);
  });

  it.each([
    [
      'a 401 from the token endpoint',
      () => {
        process.env.CIPP_CLIENT_SECRET = 'wrong';
      },
      `the token endpoint (login.microsoftonline.com, tenant ${PARTNER}): answered 401: check CIPP_CLIENT_ID, CIPP_CLIENT_SECRET, CIPP_TENANT_ID (the app's client ID and secret, and its tenant)`,
    ],
    [
      'an API that fails halfway (a 503 that stays)',
      () => {
        state.failing = OTHER_GUID;
      },
      'CIPP /api/ListDomains for Fabrikam: answered 503 (3 tries)',
    ],
    [
      'a malformed answer',
      () => {
        state.tenants = { value: [] };
      },
      'CIPP /api/ListTenants: the answer is not a list of tenants',
    ],
    [
      'a tenant without its ID',
      () => {
        state.tenants = [{ displayName: 'x' }];
      },
      'CIPP /api/ListTenants: tenant 1 has no customerId (a GUID)',
    ],
    [
      'a body that never ends',
      () => {
        state.endless = true;
      },
      'CIPP /api/ListTenants: the body is larger than 16 MiB',
    ],
  ])('fails on %s, and leaves the directory as it was', async (_what, arrange, message) => {
    await sync('--all');
    const before = await Promise.all((await files()).map((f) => readFile(join(out, f), 'utf8')));
    arrange();
    const result = await sync('--all', '--prune');
    expect(result.code).toBe(1);
    expect(result.err).toBe(`mdm-discovery sync: ${message}\n`);
    expect(result.out).toContain('"outcome":"failed"');
    const after = await Promise.all((await files()).map((f) => readFile(join(out, f), 'utf8')));
    expect(after).toEqual(before);
  });

  it('takes its credentials from the environment only', async () => {
    delete process.env.CIPP_CLIENT_SECRET;
    const result = await sync('--all');
    expect(result.code).toBe(2);
    expect(result.err).toContain(
      'set CIPP_CLIENT_SECRET in the environment (never on the command line)',
    );
  });
});
