import { createServer, type Server } from 'node:https';
import { connect as connectTls } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionHasEms } from '../../src/verify/net.js';
import { expiryCheck } from '../../src/verify/tls.js';
import { bySystem, type Report, type VerifyOptions, verify } from '../../src/verify/verify.js';
import { makePki, type Pki } from '../helpers/pki.js';
import {
  type Fixture,
  GUID,
  OTHER_GUID,
  startFixtures,
  startSignIn,
  startTlsFixture,
} from './fixtures.js';

let pki: Pki;
let fixtures: Fixture;
const tls: Record<string, Fixture> = {};

beforeAll(async () => {
  pki = makePki();
  fixtures = await startFixtures(pki.leaf(['*.fixture.test']));
  tls.wrongHost = await startTlsFixture(pki.leaf(['other.example']));
  tls.expired = await startTlsFixture(
    pki.leaf(['expired.fixture.test'], { start: '20200101000000Z', end: '20200201000000Z' }),
  );
  // A 90-day certificate issued 80 days ago: 10 days left, less than a third.
  const day = (offset: number) =>
    `${new Date(Date.now() + offset * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
  tls.soon = await startTlsFixture(
    pki.leaf(['soon.fixture.test'], { start: day(-80), end: day(10) }),
  );
  tls.untrusted = await startTlsFixture(pki.selfSigned(['untrusted.fixture.test']));
  tls.noEms = await startTlsFixture({
    ...pki.leaf(['noems.fixture.test']),
    maxVersion: 'TLSv1.2',
    // SSL_OP_NO_EXTENDED_MASTER_SECRET (OpenSSL 3; Node does not name it).
    secureOptions: 0x1,
  });
  tls.cbc = await startTlsFixture({
    ...pki.leaf(['cbc.fixture.test']),
    maxVersion: 'TLSv1.2',
    ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA',
  });
  tls.extra = await startTlsFixture(pki.leaf(['extra.fixture.test']));
  tls.old = await startTlsFixture({
    ...pki.leaf(['old.fixture.test']),
    minVersion: 'TLSv1.1',
    maxVersion: 'TLSv1.1',
    ciphers: 'DEFAULT@SECLEVEL=0',
  });
}, 30_000);

afterAll(async () => {
  await Promise.all([fixtures, ...Object.values(tls)].map((f) => f.close()));
  pki.dispose();
});

function options(port: number, extra: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    families: ['iPhone'],
    ca: pki.caPem,
    // Everything goes to loopback: the fixture's port for any host name.
    resolve: [
      { host: '*', port, address: '127.0.0.1' },
      { host: '*', port: fixtures.port, address: '127.0.0.1' },
    ],
    timeoutMs: 5000,
    probeBaseUrl: true,
    ...extra,
  };
}

const run = (host: string, port = fixtures.port, extra: Partial<VerifyOptions> = {}) =>
  verify(`https://${host}:${port}`, options(port, extra));

/** Verdict and detail of the first check with this id. */
function find(report: Report, id: string) {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in ${report.checks.map((c) => c.id).join(', ')}`);
  return found;
}

describe('verify against fixture servers', () => {
  it('passes a healthy discovery answer, with the BaseURL probe', async () => {
    const report = await run('good.fixture.test');
    expect(report.counts.fail).toBe(0);
    expect(report.counts.warn).toBe(0);
    expect(report.verdict).toBe('pass');
    expect(find(report, 'tls.certificate')).toMatchObject({
      verdict: 'pass',
      detail: 'trusted, valid for good.fixture.test',
    });
    expect(find(report, 'tls.protocol')).toMatchObject({ verdict: 'pass', detail: 'TLSv1.3' });
    expect(find(report, 'baseurl.probe')).toMatchObject({ verdict: 'pass' });
    expect(report.answers).toEqual([
      {
        modelFamily: 'iPhone',
        status: 200,
        hops: [],
        version: 'mdm-byod',
        baseUrl: `https://enroll.fixture.test:${fixtures.port}/enroll`,
        probe: true,
        systems: bySystem('mdm-byod', undefined),
      },
    ]);
  });

  it.each([
    [
      'wrong-type',
      'http.content-type',
      'fail',
      /^application\/octet-stream: the device wants application\/json$/,
    ],
    ['charset', 'http.content-type', 'warn', /charset=utf-8: has a parameter/],
    ['bom', 'body.bom', 'fail', /byte order mark/],
    ['two-servers', 'body.servers', 'warn', /^2 entries: the device reads only the first$/],
    ['placeholder', 'body.base-url', 'fail', /still holds the placeholder "YourAADTenantID"/],
    ['http-base-url', 'body.base-url', 'fail', /must use https/],
    ['intune-bad', 'body.intune', 'fail', /^aadTenantId=contoso is not a GUID$/],
    [
      'redirect-drop',
      'redirect.query',
      'fail',
      /^hop 1 drops user-identifier and model-family; the device does not re-add them$/,
    ],
    ['redirect-keep', 'redirect.query', 'pass', /^1 hop, query kept$/],
    ['redirect-http', 'redirect.https', 'fail', /^hop 1 goes from https to http$/],
    [
      'not-found',
      'http.status',
      'fail',
      /^404 Not Found: only iOS 18\.2, macOS 15\.2, visionOS 2\.2 and later fall back/,
    ],
    [
      'rejected',
      'http.status',
      'warn',
      /^403 com\.apple\.well-known\.failed: the device shows "Personal Macs cannot enroll here\. Ask IT\."$/,
    ],
    ['challenge', 'http.challenge', 'fail', /Cloudflare bot challenge/],
    ['cached', 'http.cache', 'warn', /public, max-age=3600: a shared cache may keep this answer/],
    ['base-url-404', 'baseurl.probe', 'fail', /: 404: most likely not the enrollment endpoint$/],
  ] as const)('%s: %s is %s', async (host, id, verdict, detail) => {
    const report = await run(`${host}.fixture.test`);
    const found = find(report, id);
    expect(found.verdict).toBe(verdict);
    expect(found.detail).toMatch(detail);
    if (verdict !== 'pass') expect(found.fix).toBeTruthy();
    expect(report.verdict).toBe(verdict === 'pass' ? 'pass' : verdict);
  });

  it('never probes a BaseURL that failed its checks (a placeholder, plain http, a wrong Intune URL)', async () => {
    for (const host of ['placeholder', 'http-base-url', 'intune-bad']) {
      const report = await run(`${host}.fixture.test`);
      expect(report.answers[0]?.probe).toBe(false);
      expect(report.checks.some((c) => c.id === 'baseurl.probe')).toBe(false);
    }
  });

  it('shows each redirect hop', async () => {
    const report = await run('redirect-keep.fixture.test');
    expect(report.answers[0]?.hops).toEqual([
      {
        status: 302,
        url: `https://redirect-keep.fixture.test:${fixtures.port}/.well-known/com.apple.remotemanagement?user-identifier=probe@redirect-keep.fixture.test&model-family=iPhone`,
        location: `https://good.fixture.test:${fixtures.port}/.well-known/com.apple.remotemanagement?user-identifier=probe@redirect-keep.fixture.test&model-family=iPhone`,
      },
    ]);
  });

  it('fails a certificate for another host, naming what it is for', async () => {
    const report = await run('wronghost.fixture.test', tls.wrongHost?.port);
    expect(find(report, 'tls.certificate')).toMatchObject({
      verdict: 'fail',
      detail: 'not valid for wronghost.fixture.test (it names DNS:other.example)',
    });
  });

  it('fails an expired certificate', async () => {
    const report = await run('expired.fixture.test', tls.expired?.port);
    expect(find(report, 'tls.certificate')).toMatchObject({
      verdict: 'fail',
      detail: 'expired on 2020-02-01',
    });
  });

  it('warns about a certificate with less than a third of its lifetime left', async () => {
    const report = await run('soon.fixture.test', tls.soon?.port, { probeBaseUrl: false });
    expect(find(report, 'tls.expiry')).toMatchObject({
      verdict: 'warn',
      detail: expect.stringMatching(/: (9|10) of 9[01] days left, less than a third$/),
    });
  });

  it.each([
    ['a fresh 45-day certificate', 45, 44, 'pass'],
    ['a 6-day certificate with 5 days left', 6, 5, 'pass'],
    ['a 6-day certificate with 1 day left', 6, 1, 'warn'],
    ['a 90-day certificate with 31 days left', 90, 31, 'pass'],
    ['a 90-day certificate with 29 days left', 90, 29, 'warn'],
  ] as const)('judges expiry against the lifetime: %s', (_label, lifetime, left, verdict) => {
    const now = new Date('2026-11-30T12:00:00Z');
    const to = new Date(now.getTime() + left * 86_400_000);
    const from = new Date(to.getTime() - lifetime * 86_400_000);
    expect(expiryCheck(to, from, now).verdict).toBe(verdict);
  });

  it('fails a certificate no trusted CA vouches for', async () => {
    const report = await run('untrusted.fixture.test', tls.untrusted?.port, {
      probeBaseUrl: false,
    });
    expect(find(report, 'tls.certificate')).toMatchObject({
      verdict: 'fail',
      detail: 'not trusted (DEPTH_ZERO_SELF_SIGNED_CERT)',
    });
  });

  it('fails a server that speaks only TLS 1.1, and says so', async () => {
    const report = await run('old.fixture.test', tls.old?.port);
    expect(find(report, 'tls.protocol')).toMatchObject({
      verdict: 'fail',
      detail: 'the server speaks only TLSv1.1; Apple devices need TLS 1.2 or newer',
    });
  });

  it('says that Apple answers for its reserved domains, and asks nothing', async () => {
    for (const host of ['contoso.appleaccount.com', 'fabrikam.appleid.com']) {
      const report = await run(host, 1);
      expect(
        report.checks.map((c) => c.id),
        host,
      ).toEqual(['domain.apple-reserved']);
      expect(find(report, 'domain.apple-reserved').verdict).toBe('warn');
      expect(find(report, 'domain.apple-reserved').detail).toContain(
        'Apple answers discovery for those accounts itself',
      );
    }
  });

  it('fails a host where nothing listens', async () => {
    const report = await verify('https://nothing.fixture.test:9', options(9));
    expect(find(report, 'tls.handshake')).toMatchObject({
      verdict: 'fail',
      detail: 'no TLS connection (ECONNREFUSED)',
    });
  });

  it('compares answers by model family side by side', async () => {
    const report = await run('good.fixture.test', fixtures.port, {
      families: ['iPhone', 'iPad', 'Mac'],
      probeBaseUrl: false,
    });
    expect(report.answers.map((a) => a.modelFamily)).toEqual(['iPhone', 'iPad', 'Mac']);
    expect(find(report, 'families.compare')).toMatchObject({
      verdict: 'info',
      detail: 'the same answer for iPhone, iPad, Mac',
    });
  });
});

describe('verify asks exactly as a device asks', () => {
  it('sends @ and + raw, and fails a server that reads a raw + as a space', async () => {
    const report = await run('plus.fixture.test', fixtures.port, {
      user: 'first+last@plus.fixture.test',
      probeBaseUrl: false,
    });
    expect(report.answers[0]?.status).toBe(404);
    expect(find(report, 'http.encoding')).toMatchObject({
      verdict: 'fail',
      detail: `raw (as devices send): 404; percent-encoded: 200 mdm-byod https://enroll.fixture.test:${fixtures.port}/enroll`,
    });
    expect(find(report, 'http.encoding').fix).toMatch(/a \+ is a plus, not a space/);
  });

  it('passes a server that answers the raw and the encoded form alike', async () => {
    const report = await run('good.fixture.test', fixtures.port, {
      user: 'first+last@good.fixture.test',
      probeBaseUrl: false,
    });
    expect(find(report, 'http.encoding').verdict).toBe('pass');
  });

  it('says what each band of systems does with an answer', async () => {
    const rejected = await run('rejected.fixture.test', fixtures.port, { probeBaseUrl: false });
    expect(rejected.answers[0]?.systems).toEqual([
      { systems: 'before iOS 17.5 / macOS 14.5', outcome: 'show a generic error and stop' },
      {
        systems: 'iOS 17.5-18.1 / macOS 14.5-15.1',
        outcome: 'show "Personal Macs cannot enroll here. Ask IT." and stop',
      },
      {
        systems: 'iOS 18.2+ / macOS 15.2+',
        outcome:
          'fall back to Apple\'s discovery (the MDM registered in Apple Business), so "Personal Macs cannot enroll here. Ask IT." may never be shown (inferred from iOS 18.2 device code, not documented by Apple)',
      },
    ]);
    const missing = await run('not-found.fixture.test', fixtures.port, { probeBaseUrl: false });
    expect(missing.answers[0]?.systems?.map((x) => x.outcome)).toEqual([
      'show "Your Apple ID does not support the expected services on this device" and stop',
      'show "Your Apple ID does not support the expected services on this device" and stop',
      'fall back to Apple Business: the MDM server it assigns by default to this device type (its own built-in MDM among them), or the discovery your MDM registered there, if any',
    ]);
    const wrongType = await run('wrong-type.fixture.test', fixtures.port, { probeBaseUrl: false });
    expect(wrongType.answers[0]?.systems?.[2]?.outcome).toMatch(/^fall back/);
  });

  it('names a file served only at the path with a trailing dot', async () => {
    const report = await run('dotted.fixture.test', fixtures.port, { probeBaseUrl: false });
    expect(find(report, 'http.status').verdict).toBe('fail');
    expect(find(report, 'http.trailing-dot')).toMatchObject({
      verdict: 'fail',
      detail:
        '/.well-known/com.apple.remotemanagement. (with a trailing dot) answers with a server; devices never ask there',
      fix: "serve the answer at /.well-known/com.apple.remotemanagement, without the dot (a vendor guide's slip)",
    });
    const healthy = await run('good.fixture.test', fixtures.port, { probeBaseUrl: false });
    expect(healthy.checks.some((c) => c.id === 'http.trailing-dot')).toBe(false);
  });
});

describe('verify proves the Intune tenant', () => {
  let signIn: Fixture;
  beforeAll(async () => {
    signIn = await startSignIn(
      pki.leaf([
        'login.microsoftonline.com',
        'login.microsoftonline.us',
        'login.partner.microsoftonline.cn',
      ]),
    );
  });
  afterAll(() => signIn.close());

  const intune = (name: string, extra: Partial<VerifyOptions> = {}) =>
    run(`${name}.fixture.test`, fixtures.port, {
      probeBaseUrl: false,
      timeoutMs: 1000,
      resolve: [
        { host: '*', port: fixtures.port, address: '127.0.0.1' },
        {
          host: 'login.microsoftonline.com',
          port: 443,
          address: '127.0.0.1',
          connectPort: signIn.port,
        },
      ],
      ...extra,
    });

  it('passes an aadTenantId that owns the domain, naming the tenant', async () => {
    const report = await intune('intune-match');
    expect(find(report, 'intune.tenant')).toMatchObject({
      section: 'baseurl',
      verdict: 'pass',
      detail: `${GUID} is the Entra tenant of intune-match.fixture.test`,
    });
    expect(signIn.seen).toContain(
      'GET login.microsoftonline.com /intune-match.fixture.test/v2.0/.well-known/openid-configuration',
    );
  });

  it('fails a valid GUID that belongs to another tenant', async () => {
    const report = await intune('intune-other');
    expect(find(report, 'intune.tenant')).toMatchObject({
      verdict: 'fail',
      detail: `the BaseURL names tenant ${GUID}; intune-other.fixture.test belongs to tenant ${OTHER_GUID}`,
      fix: `use aadTenantId=${OTHER_GUID} (Entra admin center > Overview > Tenant ID)`,
    });
    expect(report.verdict).toBe('fail');
  });

  it('fails a domain no Entra tenant has verified', async () => {
    const report = await intune('intune-unknown');
    expect(find(report, 'intune.tenant')).toMatchObject({
      verdict: 'fail',
      detail:
        'intune-unknown.fixture.test is not a verified domain of any Entra tenant (AADSTS90002)',
    });
  });

  it('warns, and never passes, when the lookup cannot be made', async () => {
    const report = await intune('intune-slow');
    expect(find(report, 'intune.tenant')).toMatchObject({
      verdict: 'warn',
      detail: `the tenant of intune-slow.fixture.test could not be looked up (no complete answer within 1 s (--timeout)); aadTenantId ${GUID} is unproven`,
    });
  });

  it('is left out with --no-tenant-check', async () => {
    const report = await intune('intune-other', { tenantCheck: false });
    expect(report.checks.some((c) => c.id === 'intune.tenant')).toBe(false);
  });
});

describe('verify asks every address', () => {
  let twin: Fixture;
  let stale: Server;
  beforeAll(async () => {
    // The same server again, on another address, and a stale static host on a third.
    twin = await startFixtures(pki.leaf(['*.fixture.test']), {
      port: fixtures.port,
      address: '127.0.0.3',
    });
    stale = createServer(pki.leaf(['*.fixture.test']), (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end('{"Servers":[{"Version":"mdm-byod","BaseURL":"https://old.example/enroll"}]}');
    });
    await new Promise<void>((resolve) => stale.listen(fixtures.port, '127.0.0.2', resolve));
  });
  afterAll(async () => {
    await twin.close();
    stale.closeAllConnections();
    await new Promise((resolve) => stale.close(resolve));
  });

  const at = (...addresses: string[]) =>
    run('good.fixture.test', fixtures.port, {
      probeBaseUrl: false,
      resolve: addresses.map((address) => ({
        host: 'good.fixture.test',
        port: fixtures.port,
        address,
      })),
    });
  const answer = () =>
    `200 application/json mdm-byod https://enroll.fixture.test:${fixtures.port}/enroll`;

  it('passes two addresses that answer alike, side by side', async () => {
    const report = await at('127.0.0.1', '127.0.0.3');
    expect(find(report, 'dns').detail).toBe('good.fixture.test → 127.0.0.1, 127.0.0.3 (--resolve)');
    expect(find(report, 'dns.addresses')).toMatchObject({
      verdict: 'pass',
      detail: `2 addresses answer alike: 127.0.0.1: ${answer()}; 127.0.0.3: ${answer()}`,
    });
  });

  it('fails an address that serves something else (a stale static file)', async () => {
    const report = await at('127.0.0.1', '127.0.0.2');
    expect(find(report, 'dns.addresses')).toMatchObject({
      verdict: 'fail',
      detail: `127.0.0.1: ${answer()}; 127.0.0.2: 200 application/octet-stream mdm-byod https://old.example/enroll`,
    });
    expect(report.verdict).toBe('fail');
  });

  it('fails an address that does not answer (an AAAA nobody serves)', async () => {
    const report = await at('127.0.0.1', '127.0.0.4');
    expect(find(report, 'dns.addresses')).toMatchObject({
      verdict: 'fail',
      detail: `127.0.0.1: ${answer()}; 127.0.0.4: no answer (ECONNREFUSED)`,
    });
  });

  it('says nothing of addresses for a host with one', async () => {
    const report = await at('127.0.0.1');
    expect(report.checks.some((c) => c.id === 'dns.addresses')).toBe(false);
  });
});

describe("verify checks TLS 1.2 as Apple's notice reads", () => {
  const tlsOnly = (name: string, port?: number) =>
    run(`${name}.fixture.test`, port, { probeBaseUrl: false });

  it("passes ECDHE with AES-GCM and the Extended Master Secret (mdm-discovery's own settings)", async () => {
    const report = await tlsOnly('good', fixtures.port);
    expect(find(report, 'tls.apple-suites')).toMatchObject({
      verdict: 'pass',
      detail: expect.stringMatching(
        /^TLS_ECDHE_ECDSA_WITH_AES_(128|256)_GCM_SHA(256|384) with the Extended Master Secret, as Apple's suites need$/,
      ),
    });
    expect(report.checks.some((c) => c.id === 'tls.other-suites')).toBe(false);
  });

  it('fails a TLS 1.2 server without the Extended Master Secret', async () => {
    const report = await tlsOnly('noems', tls.noEms?.port);
    expect(find(report, 'tls.apple-suites')).toMatchObject({
      verdict: 'fail',
      detail: expect.stringMatching(/ without the Extended Master Secret extension \(RFC 7627\)$/),
    });
  });

  it('fails a TLS 1.2 server that offers only CBC suites, naming what it offers', async () => {
    const report = await tlsOnly('cbc', tls.cbc?.port);
    expect(find(report, 'tls.apple-suites')).toMatchObject({
      verdict: 'fail',
      detail: expect.stringMatching(
        /^a device limited to Apple's suites \(ECDHE with AES-GCM\) cannot connect over TLS 1\.2 \(it offers TLS 1\.2 only with TLS_ECDHE_ECDSA_WITH_AES_(128|256)_CBC_SHA\)$/,
      ),
    });
  });

  it("warns when the server also accepts suites outside Apple's", async () => {
    const report = await tlsOnly('extra', tls.extra?.port);
    expect(find(report, 'tls.apple-suites').verdict).toBe('pass');
    expect(find(report, 'tls.other-suites')).toMatchObject({
      verdict: 'warn',
      detail: expect.stringMatching(/^also accepts \S+ over TLS 1\.2, outside Apple's suites$/),
    });
  });
});

describe('the Extended Master Secret, read from a TLS 1.2 session', () => {
  const session = (port: number | undefined) =>
    new Promise<Buffer>((resolve, reject) => {
      const socket = connectTls({
        host: '127.0.0.1',
        port: port as number,
        ca: pki.caPem,
        servername: 'extra.fixture.test',
        rejectUnauthorized: false,
        maxVersion: 'TLSv1.2',
      });
      socket.once('secureConnect', () => {
        resolve(socket.getSession() as Buffer);
        socket.destroy();
      });
      socket.once('error', reject);
    });

  it("is read from OpenSSL's DER, bare (Node 20) or behind Node 24's header", async () => {
    const withEms = await session(tls.extra?.port);
    const without = await session(tls.noEms?.port);
    // Node 24's layout: its own marker and the host name, then the same DER.
    const header = (der: Buffer) =>
      der[0] === 0x30
        ? Buffer.concat([Buffer.from('\0nodejs:tls:session:1\0\0\t127.0.0.1', 'latin1'), der])
        : der;
    expect(sessionHasEms(withEms)).toBe(true);
    expect(sessionHasEms(header(withEms))).toBe(true);
    expect(sessionHasEms(without)).toBe(false);
    expect(sessionHasEms(header(without))).toBe(false);
    expect(sessionHasEms(Buffer.from('not a session'))).toBe(false);
  });
});
