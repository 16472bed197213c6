// Property-based tests: random requests of every kind through the real app (app.inject), and
// random input to the pure decision. What must hold whatever a stranger sends.
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConfig } from '../../src/config/compile.js';
import { decide } from '../../src/discovery/decide.js';
import { MODEL_FAMILIES, VERSIONS } from '../../src/protocol.js';
import { appWith, configOf, PRESETS, WELL_KNOWN } from '../helpers/app.js';
import { inject } from '../helpers/dispatch.js';

/** The presets, plus a tenant whose rules reject, hide and redirect, so every outcome occurs. */
const CONFIG = {
  tenants: [
    ...(PRESETS.tenants as object[]),
    {
      name: 'ruled',
      domains: ['ruled.example'],
      enroll: { version: 'mdm-byod', baseUrl: 'https://mdm.ruled.example/byod' },
      rules: [
        { name: 'no-watch', when: { modelFamilies: ['Watch'] }, reject: { message: 'No.' } },
        { name: 'hidden', when: { userPatterns: ['hidden-*'] }, notFound: true },
        {
          name: 'moved',
          when: { userDomains: ['moved.example'] },
          redirect: { url: 'https://elsewhere.example/.well-known/com.apple.remotemanagement' },
        },
      ],
    },
  ],
};

/** Every status the README documents for a request the app itself answers (Node's parser adds 431 and 400 before it). */
const DOCUMENTED = new Set([200, 302, 307, 400, 403, 404, 405, 413, 414]);
const KNOWN_HOSTS = [
  'contoso.example',
  'a.contoso.example',
  'fabrikam.example',
  'corp.fabrikam.example',
  'tailspin.example',
  'northwind.example',
  'xn--bcher-kva.example',
  'ruled.example',
];
const NUM_RUNS = 300;

let app: FastifyInstance;
beforeAll(async () => {
  app = await appWith(CONFIG, { limits: { rateLimitPerMinute: 0 } });
});
afterAll(async () => {
  await app.close();
});

// --- arbitraries -------------------------------------------------------------------------------
const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const percentEncoded = anyText.map((text) => encodeURIComponent(text));
const brokenEncoding = fc.constantFrom('%', '%zz', '%E0%A4', '%C3%28', '%FF', '%00', '%ED%A0%80');
const value = fc.oneof(
  fc.emailAddress(),
  percentEncoded,
  brokenEncoding,
  fc.constantFrom(...MODEL_FAMILIES, ''),
  fc.constantFrom('joe@moved.example', 'hidden-1@ruled.example', 'joe%40contoso.example'),
  fc.stringMatching(/^[A-Za-z0-9._~!$'()*+,;:@/?-]{0,30}$/),
);
const key = fc.oneof(
  fc.constantFrom('user-identifier', 'model-family', 'USER-IDENTIFIER', 'model-family[]'),
  fc.stringMatching(/^[a-z%0-9-]{0,12}$/),
);
const query = fc
  .array(fc.tuple(key, value), { maxLength: 6 })
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));
const hugeQuery = fc
  .constantFrom(1024, 9000, 1 << 20)
  .map((n) => `user-identifier=${'a'.repeat(n)}`);
const path = fc.oneof(
  fc.constant(WELL_KNOWN),
  fc.constantFrom(
    `${WELL_KNOWN}/`,
    '/',
    '/healthz',
    '/readyz',
    '/.well-known/',
    '/.WELL-KNOWN/com.apple.remotemanagement',
    `/${WELL_KNOWN}`,
    '/.well-known/com.apple.remotemanagement%00',
    '/%zz',
    '/..%2f..%2fetc/passwd',
  ),
  fc
    .array(fc.stringMatching(/^[A-Za-z0-9._~%-]{0,10}$/), { maxLength: 4 })
    .map((s) => `/${s.join('/')}`),
);
const host = fc.oneof(
  fc.constantFrom(...KNOWN_HOSTS),
  fc.constantFrom(...KNOWN_HOSTS).map((h) => `${h.toUpperCase()}:443`),
  fc.constantFrom(...KNOWN_HOSTS).map((h) => `${h}.`),
  fc.domain(),
  fc.ipV4(),
  fc.ipV6().map((ip) => `[${ip}]:8443`),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constantFrom('', ' ', 'bücher.example', 'xn--', '..', 'a'.repeat(300), 'localhost'),
);
const method = fc.constantFrom(
  'GET',
  'GET',
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'PROPFIND',
);
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);
const extraHeaders = fc.dictionary(
  fc.constantFrom(
    'x-forwarded-host',
    'x-forwarded-for',
    'accept',
    'accept-language',
    'user-agent',
    'cookie',
    'x-request-id',
    'content-type',
    'origin',
  ),
  headerValue,
  { maxKeys: 4 },
);

interface Attempt {
  method: string;
  host: string;
  path: string;
  query: string;
  headers: Record<string, string>;
}
const attempt: fc.Arbitrary<Attempt> = fc.record({
  method,
  host,
  path,
  query: fc.oneof({ weight: 20, arbitrary: query }, { weight: 1, arbitrary: hugeQuery }),
  headers: extraHeaders,
});

function send(a: Attempt) {
  return inject(app, {
    method: a.method as 'GET',
    url: a.query === '' ? a.path : `${a.path}?${a.query}`,
    headers: { ...a.headers, host: a.host },
  });
}

/** Headers that may differ between two answers of the same bytes. */
function comparable(headers: Record<string, unknown>): Record<string, unknown> {
  const { date: _date, ...rest } = headers;
  return rest;
}

// --- properties --------------------------------------------------------------------------------
describe('whatever is sent', () => {
  it('the status is a documented one, never a 5xx, and every 200 discovery body is valid', async () => {
    await fc.assert(
      fc.asyncProperty(attempt, async (a) => {
        const res = await send(a);
        expect(DOCUMENTED.has(res.statusCode), `status ${res.statusCode}`).toBe(true);
        const discovery = res.statusCode === 200 && !['/healthz', '/readyz'].includes(a.path);
        if (discovery && a.method === 'GET') {
          expect(res.headers['content-type']).toBe('application/json');
          const body = JSON.parse(res.body);
          expect(Object.keys(body)).toEqual(['Servers']);
          expect(body.Servers).toHaveLength(1);
          expect(Object.keys(body.Servers[0])).toEqual(['Version', 'BaseURL']);
          expect(VERSIONS).toContain(body.Servers[0].Version);
          expect(new URL(body.Servers[0].BaseURL).protocol).toBe('https:');
          expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
        }
        if (a.method === 'HEAD') expect(res.rawPayload.length).toBe(0);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('the decision never throws, for any host and any query string', () => {
    const table = compileConfig(configOf(CONFIG));
    fc.assert(
      fc.property(
        fc.oneof(host, fc.string({ unit: 'binary' })),
        fc.oneof(query, fc.string({ unit: 'binary' })),
        (h, search) => {
          const decision = decide(table, { host: h, search });
          expect(decision.response.status).toBeGreaterThanOrEqual(200);
          expect(decision.response.status).toBeLessThan(500);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('a stranger learns nothing', () => {
  const unknownHost = fc.oneof(
    fc.domain().filter((d) => !d.endsWith('.example')),
    fc.ipV4(),
    fc.ipV6().map((ip) => `[${ip}]`),
    fc.string({ unit: 'grapheme', maxLength: 30 }).filter((h) => !h.includes('example')),
    fc.constantFrom('', 'example', 'contoso.example.evil', 'ccontoso.example', 'contoso.exampl'),
  );

  it('every unknown host gets the same status, headers and bytes, whatever else is sent', async () => {
    const reference = await send({
      method: 'GET',
      host: 'nobody.invalid',
      path: WELL_KNOWN,
      query: '',
      headers: {},
    });
    expect(reference.statusCode).toBe(404);
    await fc.assert(
      fc.asyncProperty(unknownHost, query, extraHeaders, async (h, q, headers) => {
        const { 'x-forwarded-host': _ignored, ...rest } = headers;
        const res = await send({
          method: 'GET',
          host: h,
          path: WELL_KNOWN,
          query: q,
          headers: rest,
        });
        expect(res.statusCode).toBe(404);
        expect(res.rawPayload.equals(reference.rawPayload)).toBe(true);
        expect(comparable(res.headers)).toEqual(comparable(reference.headers));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  // A marker no answer could hold by chance, put everywhere a client can write.
  const marker = fc.stringMatching(/^[a-z0-9]{10}$/).map((s) => `zqx${s}`);
  const containsMarker = (res: { body: string; headers: Record<string, unknown> }, m: string) =>
    res.body.toLowerCase().includes(m) ||
    Object.entries(res.headers).some(
      ([name, v]) => name.toLowerCase().includes(m) || String(v).toLowerCase().includes(m),
    );

  it('no answer carries any part of the request, except a redirect carrying the query it must', async () => {
    await fc.assert(
      fc.asyncProperty(
        marker,
        fc.constantFrom(...KNOWN_HOSTS, 'unknown.invalid'),
        method,
        fc.constantFrom('user', 'family', 'path', 'host', 'header', 'other-param'),
        async (m, h, verb, where) => {
          const user = where === 'user' ? `${m}@moved.example` : 'joe@contoso.example';
          const family = where === 'family' ? m : 'iPhone';
          const res = await send({
            method: verb,
            host:
              where === 'host'
                ? h.startsWith('a.contoso')
                  ? `${m}.contoso.example`
                  : `${m}.invalid`
                : h,
            path: where === 'path' ? `${WELL_KNOWN}/${m}` : WELL_KNOWN,
            query: `user-identifier=${user}&model-family=${family}${where === 'other-param' ? `&${m}=${m}` : ''}`,
            headers:
              where === 'header' ? { 'user-agent': m, 'x-request-id': m, cookie: `${m}=1` } : {},
          });
          if (res.statusCode === 302 || res.statusCode === 307) {
            // A redirect's Location carries user-identifier and model-family, percent-encoded.
            const location = String(res.headers.location);
            expect(new URL(location).searchParams.get('user-identifier')).toBe(user);
            const { location: _l, ...others } = res.headers;
            expect(containsMarker({ body: res.body, headers: others }, m)).toBe(false);
            if (where !== 'user' && where !== 'family') expect(location).not.toContain(m);
          } else {
            expect(containsMarker(res, m)).toBe(false);
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
