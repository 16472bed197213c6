import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { configOf } from '../helpers/app.js';
import { cliInProcess } from '../helpers/cli.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { type Fixture, startFixtures } from './fixtures.js';

let pki: Pki;
let fixtures: Fixture;
let app: FastifyInstance;
let appPort: number;
let caFile: string;

beforeAll(async () => {
  pki = makePki();
  fixtures = await startFixtures(pki.leaf(['*.fixture.test']));
  app = await buildApp({
    https: pki.leaf(['contoso.fixture.test']),
    config: configOf({
      tenants: [
        {
          name: 'contoso',
          domains: ['contoso.fixture.test'],
          enroll: {
            version: 'mdm-byod',
            baseUrl: `https://enroll.fixture.test:${fixtures.port}/enroll`,
          },
          rules: [
            {
              name: 'macs',
              when: { modelFamilies: ['Mac'] },
              enroll: {
                version: 'mdm-adde',
                baseUrl: `https://enroll.fixture.test:${fixtures.port}/enroll`,
              },
            },
          ],
        },
      ],
    }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  appPort = (app.server.address() as { port: number }).port;
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  caFile = join(mkdtempSync(join(tmpdir(), 'mdm-ca-')), 'ca.pem');
  writeFileSync(caFile, pki.caPem);
}, 30_000);

afterAll(async () => {
  await app.close();
  await fixtures.close();
  pki.dispose();
});

const cli = cliInProcess;

const loopback = () => [
  '--ca',
  caFile,
  '--resolve',
  `*:${appPort}:127.0.0.1`,
  '--resolve',
  `*:${fixtures.port}:127.0.0.1`,
];

describe('mdm-discovery verify, end to end', () => {
  it('passes mdm-discovery itself served over TLS, with no failure and no warning', async () => {
    const result = await cli([
      'verify',
      `https://contoso.fixture.test:${appPort}`,
      ...loopback(),
      '--json',
    ]);
    const report = JSON.parse(result.out) as {
      verdict: string;
      counts: { fail: number; warn: number };
      checks: { verdict: string; id: string; detail: string }[];
      answers: { modelFamily: string; version: string }[];
    };
    expect(report.checks.filter((c) => c.verdict === 'fail' || c.verdict === 'warn')).toEqual([]);
    expect(report.verdict).toBe('pass');
    expect(result.code).toBe(0);
    // Macs are routed to device enrollment: shown side by side.
    expect(report.answers.map((a) => [a.modelFamily, a.version])).toEqual([
      ['iPhone', 'mdm-byod'],
      ['iPad', 'mdm-byod'],
      ['Mac', 'mdm-adde'],
    ]);
    expect(report.checks.find((c) => c.id === 'families.compare')?.detail).toMatch(
      /^answers differ: iPhone: 200 mdm-byod /,
    );
  });

  it('prints a checklist without colour when piped, and exits 1 when a check fails', async () => {
    const result = await cli([
      'verify',
      `https://wrong-type.fixture.test:${fixtures.port}`,
      ...loopback(),
      '--model-family',
      'iPhone',
    ]);
    expect(result.code).toBe(1);
    expect(result.out).not.toContain('\x1b[');
    expect(result.out).toContain(
      '  ✗ content-type    application/octet-stream: the device wants application/json\n',
    );
    expect(result.out).toContain('fix: send Content-Type: application/json');
    expect(result.out).toMatch(/\nFAIL: 1 failed, 1 warning, \d+ passed\n$/);
  });

  it('exits 0 with warnings, and 2 for a usage error', async () => {
    const warned = await cli([
      'verify',
      `https://charset.fixture.test:${fixtures.port}`,
      ...loopback(),
      '--no-probe-base-url',
      '--model-family',
      'iPhone',
    ]);
    expect(warned.code).toBe(0);
    expect(warned.out).toMatch(/\nWARN: 0 failed, 1 warning, \d+ passed\n$/);
    for (const args of [
      ['verify'],
      ['verify', 'a.example', '--resolve', 'nonsense'],
      ['verify', 'a.example', '--timeout', 'soon'],
      ['verify', 'http://a.example'],
    ]) {
      const bad = await cli(args);
      expect(bad.code).toBe(2);
    }
  });
});
