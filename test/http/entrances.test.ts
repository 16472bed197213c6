// The server's two entrances answer alike: its request listener (the hot path, then Fastify) and
// Fastify alone, for generated requests and for the odd shapes only a raw socket sends. A refusal
// added to one entrance only, or a rule written twice that drifts, fails here.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appWith, PRESETS, TENANT_ID, WELL_KNOWN } from '../helpers/app.js';
import { inject, injectFastify } from '../helpers/dispatch.js';
import { raw } from '../helpers/raw.js';

const CONFIG = {
  tenants: [
    ...(PRESETS.tenants as object[]),
    {
      name: 'moved',
      domains: ['moved.example'],
      redirect: { url: 'https://elsewhere.example/.well-known/com.apple.remotemanagement' },
    },
    {
      name: 'refused',
      domains: ['refused.example'],
      enroll: { intune: { tenantId: TENANT_ID } },
      rules: [{ name: 'no-macs', when: { modelFamilies: ['Mac'] }, reject: { message: 'No.' } }],
    },
  ],
};

/** Status, headers (Date and the connection's own aside) and body. */
function answer(res: { statusCode: number; headers: Record<string, unknown>; body: string }) {
  const { date: _d, connection: _c, 'keep-alive': _k, ...headers } = res.headers;
  return { status: res.statusCode, headers, body: res.body };
}

const method = fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'HEAD', 'POST', 'PUT', 'OPTIONS');
const path = fc.constantFrom(
  WELL_KNOWN,
  WELL_KNOWN,
  WELL_KNOWN,
  `${WELL_KNOWN}/`,
  `${WELL_KNOWN}.`,
  '/.well-known/com.apple.remotemanagemen%74',
  '/.well-known/com.apple.remote%6Danagement',
  '/%2Ewell-known/com.apple.remotemanagement',
  '/.WELL-KNOWN/com.apple.remotemanagement',
  '/healthz',
  '/readyz',
  '/',
  '/x',
);
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    'user-identifier=joe@contoso.example&model-family=iPhone',
    'model-family=Mac&user-identifier=ann+x@contoso.example',
    'user-identifier=%zz',
    'model-family=%E0%A4',
    'user-identifier=a@moved.example&model-family=Watch',
    `user-identifier=${'a'.repeat(9000)}`,
    'x',
    '',
  ),
  fc.string({ maxLength: 30 }).map((s) => `user-identifier=${encodeURIComponent(s)}`),
);
const host = fc.constantFrom(
  'contoso.example',
  'CONTOSO.EXAMPLE:443',
  'fabrikam.example',
  'moved.example',
  'refused.example',
  'unknown.example',
  '%63ontoso.example',
  '127.0.0.1',
  '[::1]:8443',
  '',
);
const headers = fc.record(
  {
    'content-length': fc.constantFrom('0', '5'),
    'transfer-encoding': fc.constant('chunked'),
    expect: fc.constant('100-continue'),
    'x-forwarded-host': fc.constantFrom('fabrikam.example', 'evil.example'),
    'x-forwarded-for': fc.constantFrom('198.51.100.7', '2001:db8::1, 10.0.0.1'),
    accept: fc.constantFrom('*/*', 'text/html'),
  },
  { requiredKeys: [] },
);

let app: FastifyInstance;
beforeAll(async () => {
  // No rate limit here: each request is answered twice. The limit has its own case below.
  app = await appWith(CONFIG, { trustProxy: ['127.0.0.1'], limits: { rateLimitPerMinute: 0 } });
});
afterAll(async () => {
  await app.close();
});

describe('the listener and Fastify alone', () => {
  it('answer generated requests with the same status, headers and body', async () => {
    await fc.assert(
      fc.asyncProperty(method, path, query, host, headers, async (m, p, q, h, extra) => {
        const { 'content-length': length, ...rest } = extra;
        const request = {
          method: m as 'GET',
          url: q === '' ? p : `${p}?${q}`,
          headers: { ...rest, host: h },
          // light-my-request sets Content-Length from the payload it sends.
          ...(length === undefined ? {} : { payload: length === '0' ? '' : 'hello' }),
          remoteAddress: '127.0.0.1',
        };
        const [listener, fastify] = [await inject(app, request), await injectFastify(app, request)];
        expect(answer(listener), `${m} ${request.url} Host: ${h}`).toEqual(answer(fastify));
      }),
      { numRuns: 400 },
    );
  });

  it('refuse past the rate limit alike, and count a refusal once', async () => {
    const limited = () => appWith(CONFIG, { limits: { rateLimitPerMinute: 2 } });
    const [a, b] = [await limited(), await limited()];
    try {
      const request = { url: WELL_KNOWN, headers: { host: 'contoso.example' } };
      const viaListener = [];
      const viaFastify = [];
      for (let i = 0; i < 4; i++) {
        viaListener.push(answer(await inject(a, request)));
        viaFastify.push(answer(await injectFastify(b, request)));
      }
      expect(viaListener.map((r) => r.status)).toEqual([200, 200, 429, 429]);
      expect(viaListener).toEqual(viaFastify);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('on a real socket, the listener and Fastify alone', () => {
  let listener: number;
  let fastifyAlone: Server;
  let alone: number;
  beforeAll(async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    listener = (app.server.address() as AddressInfo).port;
    fastifyAlone = createServer((req, res) => app.routing(req, res));
    await new Promise<void>((resolve) => fastifyAlone.listen(0, '127.0.0.1', resolve));
    alone = (fastifyAlone.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => fastifyAlone.close(resolve)));

  /** The bytes on the wire, Date lines and the connection's own headers aside. */
  const wire = (text: string) =>
    text.replace(/\r\n(Date|Connection|Keep-Alive): [^\r]*/gi, '').replace(/\r\n\r\n$/, '');

  it.each([
    ['HTTP/1.0', `GET ${WELL_KNOWN}?model-family=Mac HTTP/1.0\r\nHost: contoso.example\r\n\r\n`],
    [
      'two Host headers',
      `GET ${WELL_KNOWN} HTTP/1.1\r\nHost: contoso.example\r\nHost: fabrikam.example\r\nConnection: close\r\n\r\n`,
    ],
    [
      'an absolute-form target',
      `GET http://fabrikam.example${WELL_KNOWN}?model-family=iPhone HTTP/1.1\r\nHost: contoso.example\r\nConnection: close\r\n\r\n`,
    ],
    [
      'a pipeline of three',
      `GET ${WELL_KNOWN} HTTP/1.1\r\nHost: contoso.example\r\n\r\nHEAD ${WELL_KNOWN} HTTP/1.1\r\nHost: fabrikam.example\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: contoso.example\r\nConnection: close\r\n\r\n`,
    ],
    [
      'Expect: 100-continue',
      `GET ${WELL_KNOWN} HTTP/1.1\r\nHost: contoso.example\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
    ],
    [
      'an empty body',
      `GET ${WELL_KNOWN} HTTP/1.1\r\nHost: contoso.example\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    ],
    [
      'a chunked body',
      `GET ${WELL_KNOWN} HTTP/1.1\r\nHost: contoso.example\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`,
    ],
    [
      'an encoded path',
      `GET /.well-known/com.apple.remotemanagemen%74?model-family=iPhone HTTP/1.1\r\nHost: contoso.example\r\nConnection: close\r\n\r\n`,
    ],
  ])('answer %s with the same bytes', async (_what, bytes) => {
    expect(wire(await raw(listener, bytes))).toBe(wire(await raw(alone, bytes)));
  });
});
