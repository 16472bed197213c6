import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_FAMILIES } from '../../src/discovery/query.js';
import { securityHeaders } from '../../src/http/security-headers.js';
import { appWith, discoveryUrl, TENANT_ID, testApp, WELL_KNOWN } from '../helpers/app.js';
import { inject } from '../helpers/dispatch.js';

const INTUNE = `https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=${TENANT_ID}`;

/** Exact bytes of each preset's answer (docs/protocol.md section 2). */
const GOLDEN: Record<string, string> = {
  'contoso.example': `{"Servers":[{"Version":"mdm-byod","BaseURL":"${INTUNE}"}]}`,
  'agency.example': `{"Servers":[{"Version":"mdm-byod","BaseURL":"https://manage.microsoft.us/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=${TENANT_ID}"}]}`,
  'contoso-cn.example': `{"Servers":[{"Version":"mdm-byod","BaseURL":"https://manage.microsoft.cn/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=${TENANT_ID}"}]}`,
  'fabrikam.example':
    '{"Servers":[{"Version":"mdm-byod","BaseURL":"https://fabrikam.jamfcloud.com/servicediscoveryenrollment/v1/userenroll"}]}',
  'corp.fabrikam.example':
    '{"Servers":[{"Version":"mdm-adde","BaseURL":"https://fabrikam.jamfcloud.com/servicediscoveryenrollment/v1/deviceenroll"}]}',
  'tailspin.example':
    '{"Servers":[{"Version":"mdm-byod","BaseURL":"https://fleet.tailspin.example/api/mdm/apple/account_driven_enroll"}]}',
  'northwind.example':
    '{"Servers":[{"Version":"mdm-adde","BaseURL":"https://mdm.northwind.example/enroll?org=7"}]}',
};

const NOT_FOUND = '{"code":"not_found","message":"Not Found"}';

/** Headers that change per response or per connection, left out of exact comparisons. */
function stable(headers: Record<string, unknown>): Record<string, unknown> {
  const { date: _date, connection: _connection, 'keep-alive': _keepAlive, ...rest } = headers;
  return rest;
}

function jsonHeaders(length: number) {
  return {
    ...securityHeaders(),
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-length': String(length),
  };
}

let app: FastifyInstance;
beforeAll(async () => {
  app = await appWith();
});
afterAll(async () => {
  await app.close();
});

const get = (
  host: string,
  url = discoveryUrl('joe@contoso.example', 'iPhone'),
  method: 'GET' | 'HEAD' = 'GET',
) => inject(app, { method, url, headers: { host } });

describe('GET /.well-known/com.apple.remotemanagement', () => {
  it.each(Object.entries(GOLDEN))('answers %s with its golden bytes', async (host, body) => {
    const res = await get(host);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(stable(res.headers)).toEqual(jsonHeaders(Buffer.byteLength(body)));
  });

  it.each([...MODEL_FAMILIES, 'iphone', 'Toaster', undefined])(
    "answers model-family %s with the tenant's one server",
    async (family) => {
      const res = await get('contoso.example', discoveryUrl('joe@contoso.example', family));
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe(GOLDEN['contoso.example']);
    },
  );

  it('answers without any query (an older device, or curl)', async () => {
    const res = await get('contoso.example', WELL_KNOWN);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(GOLDEN['contoso.example']);
  });

  it('sends Content-Type exactly application/json, no charset, and names no server software', async () => {
    const res = await get('contoso.example');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers.server).toBeUndefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.rawPayload[0]).toBe(0x7b); // "{", no byte order mark
  });

  it.each([
    ['CONTOSO.example'],
    ['contoso.example:443'],
    ['contoso.example.'],
    ['contoso.example.:8080'],
    ['any.sub.contoso.example'],
  ])('normalises the Host %j', async (host) => {
    const res = await get(host);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(GOLDEN['contoso.example']);
  });

  it('matches a Unicode host to its punycode domain', async () => {
    for (const host of ['bücher.example', 'xn--bcher-kva.example']) {
      const res = await get(host);
      expect(res.body).toBe(GOLDEN['northwind.example']);
    }
  });

  it('answers HEAD with the GET status and headers and no body', async () => {
    for (const url of [discoveryUrl('joe@contoso.example', 'Mac'), WELL_KNOWN]) {
      const head = await get('contoso.example', url, 'HEAD');
      const full = await get('contoso.example', url, 'GET');
      expect(head.statusCode).toBe(200);
      expect(stable(head.headers)).toEqual(stable(full.headers));
      expect(head.rawPayload.length).toBe(0);
    }
    const unknown = await get('nobody.example', WELL_KNOWN, 'HEAD');
    expect(unknown.statusCode).toBe(404);
    expect(stable(unknown.headers)).toEqual(jsonHeaders(NOT_FOUND.length));
    expect(unknown.rawPayload.length).toBe(0);
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const)(
    'answers %s with 405 and Allow: GET, HEAD',
    async (method) => {
      const res = await inject(app, {
        method,
        url: discoveryUrl('joe@contoso.example'),
        headers: { host: 'contoso.example', 'content-type': 'application/x-www-form-urlencoded' },
        payload: method === 'OPTIONS' ? undefined : 'a=1',
      });
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
      expect(res.body).toBe('{"code":"method_not_allowed","message":"Use GET or HEAD"}');
    },
  );
});

describe('hosts and paths it does not serve', () => {
  it('answers every unknown host with the same bytes and headers', async () => {
    const hosts = [
      'nobody.example',
      'contoso.example.evil',
      '127.0.0.1',
      '[::1]:80',
      'localhost',
      'a'.repeat(280),
      'ü.example',
    ];
    for (const host of hosts) {
      const res = await get(host);
      expect(res.statusCode).toBe(404);
      expect(res.body).toBe(NOT_FOUND);
      expect(stable(res.headers)).toEqual(jsonHeaders(NOT_FOUND.length));
    }
  });

  it('answers other paths with the same 404, known host or not', async () => {
    for (const [host, url] of [
      ['contoso.example', '/'],
      ['contoso.example', '/.well-known/com.apple.remotemanagement/'],
      ['contoso.example', '/.well-known/COM.APPLE.REMOTEMANAGEMENT'],
      ['nobody.example', '/index.html?user-identifier=joe@contoso.example'],
    ] as const) {
      const res = await inject(app, { url, headers: { host } });
      expect(res.statusCode).toBe(404);
      expect(res.body).toBe(NOT_FOUND);
      expect(stable(res.headers)).toEqual(jsonHeaders(NOT_FOUND.length));
    }
  });
});

describe('defensive query parsing', () => {
  it('accepts @ raw or as %40', async () => {
    const raw = await get(
      'contoso.example',
      `${WELL_KNOWN}?user-identifier=joe@contoso.example&model-family=iPad`,
    );
    const encoded = await get(
      'contoso.example',
      `${WELL_KNOWN}?user-identifier=joe%40contoso.example&model-family=iPad`,
    );
    expect(raw.statusCode).toBe(200);
    expect(encoded.body).toBe(raw.body);
  });

  it('uses the first of repeated parameters', async () => {
    // A tenant whose answer depends on both parameters: which value won shows in the body.
    const routed = await testApp({
      tenants: [
        {
          name: 'first',
          domains: ['first.example'],
          enroll: { version: 'mdm-byod', baseUrl: 'https://mdm.example/default' },
          rules: [
            {
              name: 'ann',
              when: { users: ['ann@first.example'] },
              enroll: { version: 'mdm-byod', baseUrl: 'https://mdm.example/ann' },
            },
            {
              name: 'macs',
              when: { modelFamilies: ['Mac'] },
              enroll: { version: 'mdm-adde', baseUrl: 'https://mdm.example/mac' },
            },
          ],
        },
      ],
    });
    const ask = async (query: string) =>
      (await inject(routed, { url: `${WELL_KNOWN}?${query}`, headers: { host: 'first.example' } }))
        .body;
    const body = (version: string, path: string) =>
      `{"Servers":[{"Version":"${version}","BaseURL":"https://mdm.example/${path}"}]}`;
    expect(await ask('model-family=Mac&model-family=iPhone')).toBe(body('mdm-adde', 'mac'));
    expect(await ask('model-family=iPhone&model-family=Mac')).toBe(body('mdm-byod', 'default'));
    expect(await ask('user-identifier=ann@first.example&user-identifier=bob@first.example')).toBe(
      body('mdm-byod', 'ann'),
    );
    expect(await ask('user-identifier=bob@first.example&user-identifier=ann@first.example')).toBe(
      body('mdm-byod', 'default'),
    );
  });

  it('answers invalid percent-encoding in user-identifier with a 400 that echoes nothing', async () => {
    const res = await get(
      'contoso.example',
      `${WELL_KNOWN}?user-identifier=joe%zz@contoso.example`,
    );
    expect(res.statusCode).toBe(400);
    expect(res.body).toBe(
      '{"code":"bad_request","message":"user-identifier and model-family must be valid percent-encoded UTF-8"}',
    );
    expect(res.headers['content-type']).toBe('application/json');
  });

  it('ignores invalid percent-encoding in parameters it does not read', async () => {
    const res = await get(
      'contoso.example',
      `${WELL_KNOWN}?utm=%zz&user-identifier=joe@contoso.example`,
    );
    expect(res.statusCode).toBe(200);
  });

  it('answers invalid percent-encoding in the path with a plain 400', async () => {
    const res = await get(
      'contoso.example',
      '/.well-known/%E0%A4%A?user-identifier=joe@contoso.example',
    );
    expect(res.statusCode).toBe(400);
    expect(res.body).toBe('{"code":"bad_request","message":"Bad Request"}');
  });

  it('answers a URL of several kilobytes normally', async () => {
    const res = await get(
      'contoso.example',
      `${discoveryUrl('joe@contoso.example', 'Mac')}&pad=${'x'.repeat(8000)}`,
    );
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(GOLDEN['contoso.example']);
  });

  it('reads NUL and non-UTF-8 bytes in parameters without failing', async () => {
    expect(
      (await get('contoso.example', `${WELL_KNOWN}?user-identifier=%00@x.example`)).statusCode,
    ).toBe(200);
    expect((await get('contoso.example', `${WELL_KNOWN}?model-family=%C3%28`)).statusCode).toBe(
      400,
    );
  });
});

describe('health', () => {
  it('answers /healthz and /readyz with JSON and the same security headers', async () => {
    const health = await inject(app, { url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.body).toBe('{"status":"ok"}');
    const ready = await inject(app, { url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.body).toBe('{"status":"ready"}');
    // @fastify/helmet, configured once, sets exactly the headers the discovery route precomputes.
    expect(stable(health.headers)).toEqual(jsonHeaders(15));
  });
});
