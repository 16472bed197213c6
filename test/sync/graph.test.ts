// mdm-discovery sync --from graph against fixtures on loopback with a test CA: the sign-in host
// (tokens for the partner and for each customer, and the OpenID metadata), Graph's
// delegatedAdminCustomers over two pages and each customer's /v1.0/domains, through --resolve.
import { mkdtemp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { GRAPH_ENV } from '../../src/sync/graph.js';
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

const PARTNER = '77777777-6666-4555-8444-333333333333';
const CLIENT = 'graph-app-client-id';

const state = { loop: false, refused: '', asked: [] as string[] };
let api: ApiFixture;
let out: string;

beforeAll(async () => {
  api = await startApiFixture(
    ['login.microsoftonline.us', 'graph.microsoft.us'],
    'login.microsoftonline.us',
    async (req, res, url) => {
      state.asked.push(`${req.method} ${url.host}${url.pathname}`);
      if (url.hostname === 'login.microsoftonline.us') {
        const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname)?.[1];
        const form = await formOf(req);
        const ok =
          form.get('client_id') === CLIENT &&
          form.get('client_secret') === 'secret' &&
          form.get('scope') === 'https://graph.microsoft.us/.default' &&
          token !== state.refused;
        if (!ok) return reply(res, 401, { error: 'invalid_client' });
        return reply(res, 200, { access_token: `token-for-${token}` });
      }
      const auth = req.headers.authorization ?? '';
      if (url.pathname === '/v1.0/tenantRelationships/delegatedAdminCustomers') {
        if (auth !== `Bearer token-for-${PARTNER}`) return reply(res, 401, {});
        const next = `https://graph.microsoft.us${url.pathname}?$skiptoken=2`;
        if (url.search === '' || state.loop) {
          return reply(res, 200, {
            value: [{ tenantId: GUID, displayName: 'Contoso' }],
            '@odata.nextLink': next,
          });
        }
        return reply(res, 200, { value: [{ tenantId: OTHER_GUID, displayName: 'Fabrikam' }] });
      }
      if (url.pathname === '/v1.0/domains') {
        const tenant = auth.replace('Bearer token-for-', '');
        const own = { [GUID]: 'contoso.graph.test', [OTHER_GUID]: 'fabrikam.graph.test' }[tenant];
        if (own === undefined) return reply(res, 401, {});
        return reply(res, 200, {
          value: [
            { id: own, isVerified: true, isInitial: false },
            { id: `${own.split('.')[0]}.onmicrosoft.us`, isVerified: true, isInitial: true },
          ],
        });
      }
      reply(res, 404, {});
    },
  );
  Object.assign(TENANTS, { 'contoso.graph.test': GUID, 'fabrikam.graph.test': OTHER_GUID });
}, 30_000);

afterAll(() => api.close());

beforeEach(async () => {
  out = await mkdtemp(join(api.dir, 'out-'));
  setCredentials(GRAPH_ENV, [CLIENT, 'secret', PARTNER]);
  Object.assign(state, { loop: false, refused: '', asked: [] });
});

afterEach(() => {
  clearCredentials(GRAPH_ENV);
});

const sync = (...args: string[]) =>
  cliInProcess([
    'sync',
    '--from',
    'graph',
    '--cloud',
    'usgov',
    '--out',
    out,
    ...networkArgs(api),
    ...args,
  ]);

describe('mdm-discovery sync --from graph', () => {
  it("follows the customers' pages, asks each taken customer's tenant for its domains, and proves them", async () => {
    const result = await sync('--all');
    expect(result.err).toBe('');
    expect(result.code).toBe(3);
    const config = await loadConfig(out);
    expect(config.tenants.map((t) => [t.name, t.domains, t.sync?.from])).toEqual([
      ['contoso-6f0c8a5e', ['contoso.graph.test'], 'graph:usgov'],
      ['fabrikam-0b1d2c3e', ['fabrikam.graph.test'], 'graph:usgov'],
    ]);
    // US Government: the enroll block names the cloud.
    expect(JSON.stringify(config.tenants[0]?.action)).toContain('manage.microsoft.us');
  });

  it('asks only the customers it takes', async () => {
    await sync('--include', 'Fabrikam');
    expect(await readdir(out)).toEqual(['sync-fabrikam-0b1d2c3e.json']);
    expect(state.asked.filter((a) => a.endsWith('/oauth2/v2.0/token'))).toEqual([
      `POST login.microsoftonline.us/${PARTNER}/oauth2/v2.0/token`,
      `POST login.microsoftonline.us/${OTHER_GUID}/oauth2/v2.0/token`,
    ]);
  });

  it('fails on a listing that never ends, and on a customer whose tenant refuses the app, writing nothing', async () => {
    state.loop = true;
    const looped = await sync('--all');
    expect(looped.code).toBe(1);
    expect(looped.err).toBe(
      'mdm-discovery sync: Graph /v1.0/tenantRelationships/delegatedAdminCustomers: the listing never ends (a page links back, or more than 1000 pages)\n',
    );
    state.loop = false;
    state.refused = OTHER_GUID;
    const refused = await sync('--all');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      `the token endpoint (login.microsoftonline.us, tenant ${OTHER_GUID}): answered 401: check GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET, GRAPH_TENANT_ID`,
    );
    expect(await readdir(out)).toEqual([]);
  });
});
