// verify against servers that fight back: drips, floods, terminal escapes, and redirects inward.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../src/verify/render.js';
import { type Report, type VerifyOptions, verify } from '../../src/verify/verify.js';
import { runCli } from '../helpers/cli.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { type Fixture, startFixtures } from './fixtures.js';

let pki: Pki;
let fixtures: Fixture;
let caFile: string;

beforeAll(async () => {
  pki = makePki();
  fixtures = await startFixtures(pki.leaf(['*.fixture.test']));
  caFile = join(tmpdir(), `mdm-hostile-ca-${process.pid}.pem`);
  writeFileSync(caFile, pki.caPem);
}, 30_000);

afterAll(async () => {
  await fixtures.close();
  pki.dispose();
});

/** Only the host asked for is mapped to loopback: any other host is looked up for real. */
function options(host: string, extra: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    families: ['iPhone'],
    ca: pki.caPem,
    resolve: [{ host, port: fixtures.port, address: '127.0.0.1' }],
    // Stands in for DNS: these names are on loopback, as an internal name would be on a private
    // address; nothing leaves the machine.
    lookup: async (name) => {
      if (name === 'inside.fixture.test' || name === 'enroll.fixture.test') return ['127.0.0.1'];
      throw Object.assign(new Error(`${name}: not found`), { code: 'ENOTFOUND' });
    },
    timeoutMs: 5000,
    probeBaseUrl: true,
    ...extra,
  };
}

const run = (name: string, extra: Partial<VerifyOptions> = {}) =>
  verify(`https://${name}.fixture.test:${fixtures.port}`, options(`${name}.fixture.test`, extra));

function find(report: Report, id: string) {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in ${report.checks.map((c) => c.id).join(', ')}`);
  return found;
}

/** The real command, in a child process: a hang or a runaway read would show as a test timeout. */
function cli(name: string, ...args: string[]) {
  return runCli([
    'verify',
    `https://${name}.fixture.test:${fixtures.port}`,
    '--ca',
    caFile,
    '--resolve',
    `${name}.fixture.test:${fixtures.port}:127.0.0.1`,
    '--model-family',
    'iPhone',
    '--no-probe-base-url',
    '--json',
    ...args,
  ]);
}

describe('verify is bounded', () => {
  it('cuts off a body that drips, at --timeout for the whole exchange', async () => {
    const done = await cli('drip', '--timeout', '1');
    expect(done.code).toBe(1);
    const report = JSON.parse(done.stdout) as Report;
    expect(find(report, 'http.request')).toMatchObject({
      verdict: 'fail',
      detail: `https://drip.fixture.test:${fixtures.port}/.well-known/com.apple.remotemanagement?user-identifier=probe@drip.fixture.test&model-family=iPhone: no complete answer within 1 s (--timeout)`,
    });
  }, 30_000);

  it('ends the whole run at --deadline, whatever each request is allowed', async () => {
    const done = await cli('drip', '--timeout', '30', '--deadline', '1');
    expect(done.code).toBe(1);
    const report = JSON.parse(done.stdout) as Report;
    expect(find(report, 'http.request').detail).toMatch(/: the run took longer than --deadline$/);
    expect(find(report, 'http.bare').detail).toMatch(/: the run took longer than --deadline$/);
  }, 30_000);

  it.each(['huge', 'endless'])(
    'stops reading a %s body at 256 KiB',
    async (name) => {
      const done = await cli(name);
      expect(done.code).toBe(1);
      const report = JSON.parse(done.stdout) as Report;
      expect(find(report, 'http.request').detail).toMatch(
        /: the body is larger than 256 KiB; a discovery answer is a few hundred bytes$/,
      );
    },
    30_000,
  );
});

describe('verify shows what a server sent, never runs it', () => {
  it('renders escapes, bells and newlines from the server as visible text', async () => {
    const report = await run('escapes', { probeBaseUrl: false });
    expect(report.answers[0]?.message).toBe(
      '\u001b[2J\u001b]0;owned\u0007Ask IT.\nPASS: 0 failed, 0 warnings, 9 passed',
    );
    for (const color of [false, true]) {
      const text = renderReport(report, color);
      for (const raw of ['\u0007', '\r', '\u001b[2J', '\u001b]']) expect(text).not.toContain(raw);
      // The message stays on its lines (status, answers, two bands of systems): its newline
      // cannot start a line.
      const carrying = text.split('\n').filter((line) => line.includes('Ask IT.'));
      expect(carrying).toHaveLength(4);
      for (const line of carrying) {
        expect(line).toContain('\\x1b[2J\\x1b]0;owned\\x07Ask IT.\\x0aPASS: 0 failed');
      }
      expect(text).not.toMatch(/^PASS: 0 failed, 0 warnings, 9 passed$/m);
    }
  });
});

describe('verify does not let the checked server steer it inward', () => {
  const refused = (host: string) =>
    new RegExp(
      `: ${host.replace(/\./g, '\\.')} is at 127\\.0\\.0\\.1, a loopback, private or link-local address: not followed \\(pass --allow-private to allow it\\)$`,
    );

  it.each([
    ['redirect-private', 'inside.fixture.test'],
    ['redirect-ip', '127.0.0.1'],
  ])('%s: does not follow a redirect to a loopback address', async (name, host) => {
    fixtures.seen.length = 0;
    const report = await run(name);
    expect(find(report, 'http.request')).toMatchObject({
      verdict: 'fail',
      detail: expect.stringMatching(refused(host)),
    });
    expect(fixtures.seen.filter((s) => !s.includes(` ${name}.fixture.test `))).toEqual([]);
  });

  it('follows it with --allow-private', async () => {
    fixtures.seen.length = 0;
    const report = await run('redirect-private', { allowPrivate: true });
    expect(report.checks.some((c) => c.id === 'http.request')).toBe(false);
    expect(fixtures.seen).toContain(
      'GET inside.fixture.test /.well-known/com.apple.remotemanagement',
    );
  });

  it('does not POST to a BaseURL on a private address, unless allowed', async () => {
    fixtures.seen.length = 0;
    const report = await run('good');
    expect(find(report, 'baseurl.probe')).toMatchObject({
      verdict: 'fail',
      detail: expect.stringMatching(
        new RegExp(`/enroll: not probed: ${refused('enroll.fixture.test').source.slice(2)}`),
      ),
    });
    expect(fixtures.seen.filter((s) => s.startsWith('POST'))).toEqual([]);
    const allowed = await run('good', { allowPrivate: true });
    expect(find(allowed, 'baseurl.probe').verdict).toBe('pass');
    expect(fixtures.seen).toContain('POST enroll.fixture.test /enroll');
  });

  it('reaches a host that --resolve maps to loopback: the user chose it', async () => {
    fixtures.seen.length = 0;
    const report = await run('redirect-keep', {
      resolve: [
        { host: 'redirect-keep.fixture.test', port: fixtures.port, address: '127.0.0.1' },
        { host: 'good.fixture.test', port: fixtures.port, address: '127.0.0.1' },
      ],
      probeBaseUrl: false,
    });
    expect(find(report, 'redirect.query').verdict).toBe('pass');
    expect(fixtures.seen).toContain(
      'GET good.fixture.test /.well-known/com.apple.remotemanagement',
    );
  });
});
