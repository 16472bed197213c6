// HTTPS fixture servers on loopback, one behaviour per host name, for verify's tests.
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TLS_SETTINGS } from '../../src/http/tls.js';
import { WELL_KNOWN_PATH as WELL_KNOWN } from '../../src/protocol.js';
import type { KeyPair } from '../helpers/pki.js';

export const GUID = '6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a';

type Reply = { status: number; headers?: Record<string, string>; body?: string | Buffer };

/** What each *.fixture.test host answers at the well-known path; `port` is the fixture's own. */
const BEHAVIOURS: Record<string, (port: number, query: string) => Reply> = {
  good: (port) =>
    json(
      `{"Servers":[{"Version":"mdm-byod","BaseURL":"https://enroll.fixture.test:${port}/enroll"}]}`,
    ),
  'wrong-type': (port) => ({
    ...json(servers(port)),
    headers: { 'content-type': 'application/octet-stream' },
  }),
  charset: (port) => ({
    ...json(servers(port)),
    headers: { 'content-type': 'application/json; charset=utf-8' },
  }),
  bom: (port) => json(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(servers(port))])),
  'two-servers': (port) =>
    json(
      `{"Servers":[{"Version":"mdm-byod","BaseURL":"https://enroll.fixture.test:${port}/enroll"},{"Version":"mdm-adde","BaseURL":"https://enroll.fixture.test:${port}/enroll"}]}`,
    ),
  placeholder: () =>
    json(
      '{"Servers":[{"Version":"mdm-byod","BaseURL":"https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=YourAADTenantID"}]}',
    ),
  'same-host': (port) =>
    json(
      `{"Servers":[{"Version":"mdm-byod","BaseURL":"https://same-host.fixture.test:${port}/enroll"}]}`,
    ),
  'jamf-own': (port) =>
    json(
      `{"Servers":[{"Version":"mdm-byod","BaseURL":"https://enroll.fixture.test:${port}/servicediscoveryenrollment/v1/userenroll"}]}`,
    ),
  'adde-user': (port) =>
    json(
      `{"Servers":[{"Version":"mdm-adde","BaseURL":"https://enroll.fixture.test:${port}/servicediscoveryenrollment/v1/userenroll"}]}`,
    ),
  'windows-host': (port) =>
    json(
      `{"Servers":[{"Version":"mdm-byod","BaseURL":"https://enterpriseenrollment.fixture.test:${port}/EnrollmentServer/Discovery.svc"}]}`,
    ),
  'http-base-url': () =>
    json('{"Servers":[{"Version":"mdm-byod","BaseURL":"http://mdm.fixture.test/enroll"}]}'),
  'intune-bad': () =>
    json(
      '{"Servers":[{"Version":"mdm-byod","BaseURL":"https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=contoso"}]}',
    ),
  'redirect-drop': (port) => ({
    status: 302,
    headers: { location: `https://good.fixture.test:${port}${WELL_KNOWN}` },
  }),
  'redirect-keep': (port, query) => ({
    status: 302,
    headers: { location: `https://good.fixture.test:${port}${WELL_KNOWN}?${query}` },
  }),
  'redirect-http': (port, query) => ({
    status: 302,
    headers: { location: `http://good.fixture.test:${port}${WELL_KNOWN}?${query}` },
  }),
  'not-found': () => ({
    status: 404,
    headers: { 'content-type': 'text/plain' },
    body: 'Not Found',
  }),
  rejected: () => ({
    status: 403,
    headers: { 'content-type': 'application/json' },
    body: '{"code":"com.apple.well-known.failed","message":"Personal Macs cannot enroll here. Ask IT.","description":"rule deny-mac"}',
  }),
  challenge: () => ({
    status: 403,
    headers: { 'content-type': 'text/html; charset=UTF-8', 'cf-mitigated': 'challenge' },
    body: '<!DOCTYPE html><html><head><title>Just a moment...</title></head><body></body></html>',
  }),
  cached: (port) => ({
    ...json(servers(port)),
    headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' },
  }),
  // A hostile server's text: terminal escapes, a newline and a forged summary line.
  escapes: () => ({
    status: 403,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      code: 'com.apple.well-known.failed',
      message: '\u001b[2J\u001b]0;owned\u0007Ask IT.\nPASS: 0 failed, 0 warnings, 9 passed',
    }),
  }),
  // Steers verify at the machine it runs on: a redirect and a BaseURL on loopback.
  // (the tests' lookup puts inside.fixture.test and enroll.fixture.test on loopback).
  'redirect-private': (port, query) => ({
    status: 302,
    headers: { location: `https://inside.fixture.test:${port}${WELL_KNOWN}?${query}` },
  }),
  'redirect-ip': (port, query) => ({
    status: 302,
    headers: { location: `https://127.0.0.1:${port}${WELL_KNOWN}?${query}` },
  }),
  // Decodes the query as an HTML form would: a raw + becomes a space, and this person is unknown.
  plus: (port, query) =>
    (new URLSearchParams(query).get('user-identifier') ?? '').includes(' ')
      ? { status: 404, headers: { 'content-type': 'text/plain' }, body: 'no such user' }
      : json(servers(port)),
  // Only at the path with a trailing dot (the bare path is below, in startFixtures).
  dotted: (port) => json(servers(port)),
  // Intune answers whose aadTenantId the sign-in fixture below confirms, contradicts, does not
  // know, or never answers about.
  'intune-match': () => intune(GUID),
  'intune-other': () => intune(GUID),
  'intune-unknown': () => intune(GUID),
  'intune-slow': () => intune(GUID),
  // What the watcher tests switch between: the configured answer, a stale file, a CDN challenge.
  mutable: (port) =>
    MUTABLE.reply === 'good'
      ? json(servers(port))
      : MUTABLE.reply === 'stale'
        ? json('{"Servers":[{"Version":"mdm-byod","BaseURL":"https://old.example/enroll"}]}')
        : {
            status: 403,
            headers: { 'content-type': 'text/html; charset=UTF-8', 'cf-mitigated': 'challenge' },
            body: '<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>',
          },
  'base-url-404': (port) =>
    json(
      `{"Servers":[{"Version":"mdm-byod","BaseURL":"https://enroll.fixture.test:${port}/nothing"}]}`,
    ),
};

function servers(port: number): string {
  return `{"Servers":[{"Version":"mdm-byod","BaseURL":"https://enroll.fixture.test:${port}/enroll"}]}`;
}

function intune(tenantId: string): Reply {
  return json(
    `{"Servers":[{"Version":"mdm-byod","BaseURL":"https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=${tenantId}"}]}`,
  );
}

export const OTHER_GUID = '0b1d2c3e-4f50-4617-8293-a4b5c6d7e8f9';

/** The tenant of each domain, as Entra's OpenID Connect metadata would say; `hold`: no answer. */
/** Who owns each domain at the sign-in fixture: a GUID, `hold` (never answers), `down` (503). */
export const TENANTS: Record<string, string> = {
  'intune-match.fixture.test': GUID,
  'intune-other.fixture.test': OTHER_GUID,
  'contoso.fixture.test': GUID,
  'intune-slow.fixture.test': 'hold',
};

/** Entra's sign-in hosts (all three clouds) answering `/<domain>/v2.0/.well-known/openid-configuration`. */
export function startSignIn(pair: KeyPair): Promise<Fixture> {
  const seen: string[] = [];
  return listen(
    createServer(pair, (req, res) => {
      seen.push(`${req.method} ${req.headers.host} ${req.url}`);
      const match = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(req.url ?? '');
      const domain = decodeURIComponent(match?.[1] ?? '');
      const tenant = TENANTS[domain];
      if (tenant === 'hold') return;
      if (tenant === 'down') {
        res.writeHead(503);
        res.end();
        return;
      }
      if (tenant === undefined) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(
          `{"error":"invalid_tenant","error_description":"AADSTS90002: Tenant '${domain}' not found."}`,
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          issuer: `https://${req.headers.host}/${tenant}/v2.0`,
          authorization_endpoint: `https://${req.headers.host}/${tenant}/oauth2/v2.0/authorize`,
        }),
      );
    }),
    seen,
  );
}

function json(body: string | Buffer): Reply {
  return {
    status: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body,
  };
}

/** Requests the hold host keeps open now, and the most at once (a concurrency limit's proof). */
export const HOLDING = { now: 0, max: 0 };

/** The mutable host's answer (see BEHAVIOURS.mutable). */
export const MUTABLE: { reply: 'good' | 'stale' | 'challenge' } = { reply: 'good' };

/** Bodies that never end well: a drip, a gigabyte, a stream without an end, no answer at all. */
const STREAMS: Record<string, (res: ServerResponse) => void> = {
  hold: (res) => {
    HOLDING.now++;
    HOLDING.max = Math.max(HOLDING.max, HOLDING.now);
    res.on('close', () => HOLDING.now--);
  },
  drip: (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const timer = setInterval(() => res.write(' '), 200);
    res.on('close', () => clearInterval(timer));
  },
  huge: (res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 ** 30) });
    pour(res);
  },
  endless: (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    pour(res);
  },
};

/** Writes 64 KiB chunks as fast as the client reads them, until it goes away. */
function pour(res: ServerResponse): void {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const more = () => {
    while (!res.destroyed && res.write(chunk)) {}
  };
  res.on('drain', more);
  more();
}

export interface Fixture {
  readonly port: number;
  /** Serves another certificate from now on (a renewal, or one near expiry). */
  secure(pair: KeyPair): void;
  /** `METHOD host path` of every request served so far. */
  readonly seen: string[];
  close(): Promise<void>;
}

/** TLS as Apple's notice asks, as mdm-discovery serves it: healthy fixtures get no TLS warning. */
const APPLE_TLS = { ciphers: TLS_SETTINGS.ciphers, honorCipherOrder: true };

/** The *.fixture.test server: every behaviour above, and an enrollment endpoint at enroll.fixture.test. */
export function startFixtures(
  pair: KeyPair,
  at: { port?: number; address?: string } = {},
): Promise<Fixture> {
  const seen: string[] = [];
  return listen(
    createServer({ ...pair, ...APPLE_TLS }, (req, res) => {
      const host = (req.headers.host ?? '').split(':')[0] ?? '';
      const port = (req.socket.address() as AddressInfo).port;
      const [path, query = ''] = (req.url ?? '').split('?');
      seen.push(`${req.method} ${host} ${path}`);
      const streamName = host.replace(/\.fixture\.test$/, '');
      // hold-a, hold-b, …: as many holding hosts as a test wants.
      const stream = STREAMS[streamName.startsWith('hold') ? 'hold' : streamName];
      if (stream && req.method !== 'HEAD') return stream(res);
      let reply: Reply;
      if (host === 'enroll.fixture.test') {
        reply =
          (path === '/enroll' || path?.startsWith('/servicediscoveryenrollment/')) &&
          req.method === 'POST'
            ? {
                status: 401,
                headers: {
                  'www-authenticate': `Bearer method="apple-as-web", url="https://enroll.fixture.test:${port}/login"`,
                },
              }
            : { status: 404, headers: { 'content-type': 'text/plain' }, body: 'no' };
      } else {
        const name = host.replace(/\.fixture\.test$/, '');
        const behaviour = BEHAVIOURS[name];
        const asked = name === 'dotted' ? `${WELL_KNOWN}.` : WELL_KNOWN;
        reply = behaviour && path === asked ? behaviour(port, query) : { status: 404, body: '' };
      }
      res.writeHead(reply.status, reply.headers);
      res.end(req.method === 'HEAD' ? undefined : reply.body);
    }),
    seen,
    at,
  );
}

/**
 * A server with whatever TLS it is given: a GET gets the discovery `body` (the good one by
 * default), a POST the 401 an enrollment endpoint answers, so that it can stand as a BaseURL host.
 */
export function startTlsFixture(
  options: KeyPair & {
    minVersion?: 'TLSv1.1';
    maxVersion?: 'TLSv1.1' | 'TLSv1.2';
    ciphers?: string;
    secureOptions?: number;
    body?: string;
  },
): Promise<Fixture> {
  const { body, ...tls } = options;
  return listen(
    createServer(tls, (req, res) => {
      if (req.method === 'POST') {
        res.writeHead(401, {
          'www-authenticate':
            'Bearer method="apple-as-web", url="https://enroll.fixture.test/login"',
        });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        body ??
          '{"Servers":[{"Version":"mdm-byod","BaseURL":"https://enroll.fixture.test/enroll"}]}',
      );
    }),
  );
}

function listen(
  server: Server,
  seen: string[] = [],
  at: { port?: number; address?: string } = {},
): Promise<Fixture> {
  return new Promise((resolve) => {
    server.listen(at.port ?? 0, at.address ?? '127.0.0.1', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        secure: (pair) => server.setSecureContext({ ...pair, ...APPLE_TLS }),
        seen,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
