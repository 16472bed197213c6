// verify follows the enrollment past the discovery answer: the BaseURL host's TLS and chain, the
// vendor behind the BaseURL, and what no check here can see. Fixtures on loopback, their own CA.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check } from '../../src/verify/checks.js';
import { type Report, type VerifyOptions, verify } from '../../src/verify/verify.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { type Fixture, startFixtures, startTlsFixture } from './fixtures.js';

let pki: Pki;
let fixtures: Fixture;
const mdm: Record<string, Fixture> = {};
const discovery: Record<string, Fixture> = {};

/** A discovery host whose answer sends devices to `host` on `mdm`'s port. */
const pointingAt = (host: string, fixture: Fixture, version = 'mdm-byod') =>
  startTlsFixture({
    ...pki.chained([`d-${host}`]),
    body: `{"Servers":[{"Version":"${version}","BaseURL":"https://${host}:${fixture.port}/enroll"}]}`,
  });

beforeAll(async () => {
  pki = makePki();
  fixtures = await startFixtures(pki.leaf(['*.fixture.test']));
  const chained = pki.chained(['chain.fixture.test']);
  mdm.cbc = await startTlsFixture({
    ...pki.leaf(['cbc.fixture.test']),
    maxVersion: 'TLSv1.2',
    ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA',
    // SSL_OP_NO_EXTENDED_MASTER_SECRET (OpenSSL 3; Node does not name it).
    secureOptions: 0x1,
  });
  mdm.rsa1024 = await startTlsFixture({
    ...pki.leaf(['rsa1024.fixture.test'], { days: 30 }, { newkey: 'rsa:1024' }),
    ciphers: 'DEFAULT@SECLEVEL=0',
  });
  mdm.sha1 = await startTlsFixture({
    ...pki.leaf(['sha1.fixture.test'], { days: 30 }, { md: 'sha1' }),
    ciphers: 'DEFAULT@SECLEVEL=0',
  });
  mdm.noIntermediate = await startTlsFixture({ key: chained.key, cert: chained.cert });
  mdm.fullChain = await startTlsFixture({
    key: chained.key,
    cert: chained.chain,
    ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:TLS_AES_128_GCM_SHA256',
  });
  discovery.cbc = await pointingAt('cbc.fixture.test', mdm.cbc);
  discovery.rsa1024 = await pointingAt('rsa1024.fixture.test', mdm.rsa1024);
  discovery.sha1 = await pointingAt('sha1.fixture.test', mdm.sha1);
  discovery.noIntermediate = await pointingAt('chain.fixture.test', mdm.noIntermediate);
  discovery.fullChain = await pointingAt('chain.fixture.test', mdm.fullChain);
}, 60_000);

afterAll(async () => {
  await Promise.all(
    [fixtures, ...Object.values(mdm), ...Object.values(discovery)].map((f) => f.close()),
  );
  pki.dispose();
});

function options(extra: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    families: ['iPhone'],
    ca: pki.caPem,
    // Everything goes to loopback, whatever the host name.
    resolve: [fixtures, ...Object.values(mdm), ...Object.values(discovery)].map((f) => ({
      host: '*',
      port: f.port,
      address: '127.0.0.1',
    })),
    timeoutMs: 5000,
    probeBaseUrl: true,
    ...extra,
  };
}

const run = (host: string, port: number) => verify(`https://${host}:${port}`, options());

/** The checks of one section and id. */
const of = (report: Report, section: string, id: string): Check[] =>
  report.checks.filter((c) => c.section === section && c.id === id);

describe("the BaseURL host's TLS, judged like the discovery host's", () => {
  it('fails TLS 1.2 with CBC suites only, naming the host and the fix', async () => {
    const report = await run('d-cbc.fixture.test', discovery.cbc?.port as number);
    const [suites] = of(report, 'baseurl', 'tls.apple-suites');
    expect(suites?.verdict).toBe('fail');
    expect(suites?.detail).toMatch(
      /^cbc\.fixture\.test: a device limited to Apple's suites \(ECDHE with AES-GCM\) cannot connect over TLS 1\.2 \(it offers TLS 1\.2 only with .*AES.*CBC|SHA/,
    );
    expect(suites?.fix).toContain('AES-128-GCM or AES-256-GCM');
    expect(of(report, 'baseurl', 'tls.cipher')[0]?.verdict).toBe('warn');
    expect(report.verdict).toBe('fail');
  });

  it('fails an RSA-1024 leaf', async () => {
    const report = await run('d-rsa1024.fixture.test', discovery.rsa1024?.port as number);
    const [keys] = of(report, 'baseurl', 'tls.chain-keys');
    expect(keys).toMatchObject({ verdict: 'fail' });
    expect(keys?.detail).toBe(
      'rsa1024.fixture.test: the leaf "rsa1024.fixture.test" has RSA 1024 bits: Apple devices need RSA keys of 2048 bits or more, or ECDSA of 256 or more',
    );
    expect(keys?.fix).toContain('RSA 2048');
  });

  it('fails a chain signed with SHA-1', async () => {
    const report = await run('d-sha1.fixture.test', discovery.sha1?.port as number);
    const [signatures] = of(report, 'baseurl', 'tls.chain-signatures');
    expect(signatures?.verdict).toBe('fail');
    expect(signatures?.detail).toBe(
      'sha1.fixture.test: the leaf "sha1.fixture.test" is signed with ecdsa-with-SHA1: Apple devices refuse SHA-1 and MD5 signatures',
    );
  });

  it('fails a server that does not send its intermediate', async () => {
    const report = await run('d-chain.fixture.test', discovery.noIntermediate?.port as number);
    const [certificate] = of(report, 'baseurl', 'tls.certificate');
    expect(certificate?.verdict).toBe('fail');
    expect(certificate?.detail).toMatch(
      /^chain\.fixture\.test: the server sends its certificate without the intermediate certificate\(s\)/,
    );
    expect(certificate?.fix).toContain('fullchain.pem');
  });

  it('passes a healthy chain through an intermediate, with no warning', async () => {
    const report = await run('d-chain.fixture.test', discovery.fullChain?.port as number);
    const baseurl = report.checks.filter((c) => c.section === 'baseurl');
    expect(baseurl.filter((c) => c.verdict === 'warn' || c.verdict === 'fail')).toEqual([]);
    expect(of(report, 'baseurl', 'tls.chain-keys')[0]?.detail).toBe(
      'chain.fixture.test: ECDSA 256, ECDSA 256, ECDSA 256',
    );
    expect(of(report, 'baseurl', 'tls.certificate')[0]?.verdict).toBe('pass');
  });

  it('judges the TLS of each redirect hop too, and fails an http hop', async () => {
    const report = await run('redirect-http.fixture.test', fixtures.port);
    expect(of(report, 'iPhone', 'redirect.https')[0]).toMatchObject({
      verdict: 'fail',
      fix: 'redirect only to https URLs',
    });
    const keep = await run('redirect-keep.fixture.test', fixtures.port);
    expect(of(keep, 'redirect', 'tls.certificate')[0]).toMatchObject({
      verdict: 'pass',
      detail: 'good.fixture.test: trusted, valid for good.fixture.test',
    });
  });
});

describe('which MDM is behind a BaseURL', () => {
  it('recognises a Jamf path on a host that is not Jamf Cloud', async () => {
    const report = await run('jamf-own.fixture.test', fixtures.port);
    expect(of(report, 'iPhone', 'body.vendor')[0]?.detail).toBe(
      'Jamf Pro (its User Enrollment path, documented by the vendor)',
    );
    expect(
      report.checks.filter((c) => c.verdict === 'warn' || c.verdict === 'fail').map((c) => c.id),
    ).not.toContain('baseurl.version');
  });

  it('warns about mdm-adde on a User Enrollment path', async () => {
    const report = await run('adde-user.fixture.test', fixtures.port);
    expect(of(report, 'iPhone', 'baseurl.version')[0]).toMatchObject({
      verdict: 'warn',
      detail:
        '"mdm-adde" with Jamf Pro (its User Enrollment path, documented by the vendor), which serves User Enrollment ("mdm-byod")',
    });
  });

  it('warns about a BaseURL on the discovery host itself', async () => {
    const report = await run('same-host.fixture.test', fixtures.port);
    expect(of(report, 'iPhone', 'baseurl.same-host')[0]).toMatchObject({
      verdict: 'warn',
      detail:
        "the BaseURL's host is the discovery host same-host.fixture.test, usually the website itself",
    });
  });

  it('fails the Windows enrollment host, and never contacts it', async () => {
    const report = await run('windows-host.fixture.test', fixtures.port);
    expect(of(report, 'iPhone', 'baseurl.wrong-host')[0]?.verdict).toBe('fail');
    expect(fixtures.seen.filter((s) => s.includes('enterpriseenrollment'))).toEqual([]);
  });

  it('ends with what no check here can see', async () => {
    const report = await run('good.fixture.test', fixtures.port);
    expect(report.cannotSee.length).toBeGreaterThanOrEqual(3);
    expect(report.cannotSee.join(' ')).toMatch(/signed/);
  });
});
