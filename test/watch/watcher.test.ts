// The watcher against fixture domains that drift, get a CDN challenge, and get a certificate near expiry.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/model.js';
import { createLogger } from '../../src/http/logger.js';
import { createDomainWatcher, type DomainWatcher } from '../../src/watch/watcher.js';
import { configOf } from '../helpers/app.js';
import { finished, startCli } from '../helpers/cli.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { startCaptured } from '../helpers/server.js';
import {
  type Fixture,
  HOLDING,
  MUTABLE,
  startFixtures,
  startTlsFixture,
} from '../verify/fixtures.js';

let pki: Pki;
let fixtures: Fixture;
let dir: string;

beforeAll(async () => {
  pki = makePki();
  fixtures = await startFixtures(pki.leaf(['*.fixture.test']));
  dir = mkdtempSync(join(tmpdir(), 'mdm-watch-'));
  writeFileSync(join(dir, 'ca.pem'), pki.caPem);
}, 30_000);

afterAll(async () => {
  await fixtures.close();
  pki.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const enroll = () => ({
  version: 'mdm-byod',
  baseUrl: `https://enroll.fixture.test:${fixtures.port}/enroll`,
});
const tenants = (...names: string[]) =>
  names.map((name) => ({
    name,
    domains: [`${name}.fixture.test`],
    enroll: enroll(),
    watch: { families: ['iPhone'] },
  }));

describe('the watcher', () => {
  let registry: Registry;
  let logs: string;
  let current: Config;
  let watcher: DomainWatcher;

  beforeEach(() => {
    MUTABLE.reply = 'good';
    registry = new Registry();
    logs = '';
    const sink = new PassThrough();
    sink.on('data', (d: Buffer) => {
      logs += d.toString();
    });
    current = configOf({ tenants: tenants('good', 'mutable') });
    watcher = createDomainWatcher({
      config: () => current,
      net: {
        // Every domain on 443 goes to the fixtures, as WATCH_RESOLVE would send it.
        // (and the BaseURLs, on the fixtures' own port, for the hourly probe).
        resolve: [
          { host: '*', port: 443, address: '127.0.0.1', connectPort: fixtures.port },
          { host: '*', port: fixtures.port, address: '127.0.0.1' },
        ],
        ca: pki.caPem,
        timeoutMs: 1000,
      },
      intervalMs: 60_000,
      deepIntervalMs: 3_600_000,
      concurrency: 2,
      logger: createLogger({ level: 'info', format: 'json', destination: sink }),
      registry,
    });
    return () => watcher.stop();
  });

  const metrics = () => registry.metrics();
  const line = (name: string, labels: string, value: number) => `${name}{${labels}} ${value}\n`;

  it('exports each domain, each check and each family, and logs only changes', async () => {
    await watcher.round();
    let text = await metrics();
    for (const domain of ['good', 'mutable']) {
      const labels = `tenant="${domain}",domain="${domain}.fixture.test"`;
      expect(text).toContain(line('mdm_discovery_watch_up', labels, 1));
      expect(text).toContain(
        line('mdm_discovery_watch_matches_config', `${labels},family="iPhone"`, 1),
      );
      expect(text).toContain(
        line('mdm_discovery_watch_check', `${labels},check="config.match"`, 0),
      );
    }
    expect(text).toMatch(
      /mdm_discovery_watch_certificate_expiry_timestamp_seconds\{domain="good\.fixture\.test"\} \d{10}\n/,
    );
    expect(text).toMatch(/mdm_discovery_watch_last_round_timestamp_seconds \d+/);
    expect(logs).toBe('');

    // The public answer drifts from the config: a stale static file.
    MUTABLE.reply = 'stale';
    await watcher.round();
    text = await metrics();
    const mutable = 'tenant="mutable",domain="mutable.fixture.test"';
    expect(text).toContain(line('mdm_discovery_watch_up', mutable, 0));
    expect(text).toContain(
      line('mdm_discovery_watch_matches_config', `${mutable},family="iPhone"`, 0),
    );
    expect(text).toContain(line('mdm_discovery_watch_check', `${mutable},check="config.match"`, 2));
    expect(text).toContain(
      line('mdm_discovery_watch_up', 'tenant="good",domain="good.fixture.test"', 1),
    );
    const changes = logs
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(changes).toEqual([
      expect.objectContaining({
        level: 50,
        msg: 'watch: as configured fails',
        tenant: 'mutable',
        domain: 'mutable.fixture.test',
        check: 'config.match',
        detail: `not the config's answer for probe@mutable.fixture.test: public 200 mdm-byod https://old.example/enroll; config 200 mdm-byod https://enroll.fixture.test:${fixtures.port}/enroll`,
      }),
    ]);

    // It starts answering a CDN challenge.
    MUTABLE.reply = 'challenge';
    logs = '';
    await watcher.round();
    expect(await metrics()).toContain(
      line('mdm_discovery_watch_check', `${mutable},check="http.challenge"`, 2),
    );
    expect(logs).toContain('"check":"http.challenge"');

    // And is mended.
    MUTABLE.reply = 'good';
    logs = '';
    await watcher.round();
    expect(await metrics()).toContain(line('mdm_discovery_watch_up', mutable, 1));
    expect(logs).toContain('"msg":"watch: check passes again"');
    expect(watcher.state().domains.map((d) => [d.domain, d.up])).toEqual([
      ['good.fixture.test', true],
      ['mutable.fixture.test', true],
    ]);
  });

  it('sees a certificate replaced by one near expiry', async () => {
    await watcher.round();
    const before = /expiry_timestamp_seconds\{domain="good\.fixture\.test"\} (\d+)/.exec(
      await metrics(),
    )?.[1];
    const day = (offset: number) =>
      `${new Date(Date.now() + offset * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
    fixtures.secure(pki.leaf(['*.fixture.test'], { start: day(-80), end: day(10) }));
    try {
      await watcher.round();
      const text = await metrics();
      const after = /expiry_timestamp_seconds\{domain="good\.fixture\.test"\} (\d+)/.exec(
        text,
      )?.[1];
      expect(Number(after)).toBeLessThan(Number(before));
      expect(text).toContain(
        line(
          'mdm_discovery_watch_check',
          'tenant="good",domain="good.fixture.test",check="tls.expiry"',
          1,
        ),
      );
      expect(logs).toContain('"check":"tls.expiry"');
    } finally {
      fixtures.secure(pki.leaf(['*.fixture.test']));
    }
  });

  it('watches what the config lists now: a reload changes the list', async () => {
    await watcher.round();
    expect(await metrics()).toContain('domain="mutable.fixture.test"');
    current = configOf({
      tenants: [...tenants('good'), { ...tenants('mutable')[0], watch: { skip: true } }],
    });
    await watcher.round();
    const text = await metrics();
    expect(text).not.toContain('domain="mutable.fixture.test"');
    expect(text).toContain('domain="good.fixture.test"');
  });

  it("asks as a rule's listed user in turn, and never writes the address", async () => {
    const [tenant] = tenants('mutable');
    current = configOf({
      tenants: [
        {
          ...tenant,
          rules: [
            {
              name: 'pilot',
              when: { users: ['ann.person@mutable.fixture.test'] },
              enroll: { version: 'mdm-adde', baseUrl: 'https://pilot.fixture.test/enroll' },
            },
          ],
        },
      ],
    });
    MUTABLE.reply = 'stale';
    fixtures.seen.length = 0;
    await watcher.round();
    await watcher.round();
    // One question per family per round: probe@ first, then the rule's user.
    expect(fixtures.seen.filter((l) => l.startsWith('GET mutable.fixture.test'))).toHaveLength(2);
    const state = JSON.stringify(watcher.state());
    expect(state).toContain('a listed user @mutable.fixture.test');
    expect(`${state}${logs}${await metrics()}`).not.toContain('ann.person');
  });

  it('asks no more domains at once than its concurrency', async () => {
    // hold-a … hold-d.fixture.test each hold their request until the timeout.
    current = configOf({
      tenants: ['a', 'b', 'c', 'd'].map((n) => ({
        name: n,
        domains: [`hold-${n}.fixture.test`],
        enroll: enroll(),
        watch: { families: ['iPhone'] },
      })),
    });
    HOLDING.max = 0;
    await watcher.round();
    expect(HOLDING.max).toBe(2);
    expect(watcher.state().domains.every((d) => !d.up)).toBe(true);
  });

  it('reports a domain that never answers within the timeout, and the rest as usual', async () => {
    current = configOf({ tenants: tenants('good', 'hold') });
    await watcher.round();
    const hold = watcher.state().domains.find((d) => d.domain === 'hold.fixture.test');
    expect(hold?.up).toBe(false);
    expect(hold?.checks.find((c) => c.id === 'http.request')?.detail).toBe(
      'no complete answer within 1 s (--timeout)',
    );
    expect(await metrics()).toContain(
      line('mdm_discovery_watch_up', 'tenant="good",domain="good.fixture.test"', 1),
    );
  });
});

describe("the watcher's deep round: the BaseURL host's TLS", () => {
  it('judges it, exports its certificate expiry, and keeps the findings until the next deep round', async () => {
    const weak = await startTlsFixture({
      ...pki.leaf(['rsa1024.fixture.test'], { days: 30 }, { newkey: 'rsa:1024' }),
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    const weakBase = `https://rsa1024.fixture.test:${weak.port}/enroll`;
    // weak.fixture.test answers, as configured, with the weak host as its BaseURL.
    const discovery = await startTlsFixture({
      ...pki.leaf(['weak.fixture.test']),
      body: `{"Servers":[{"Version":"mdm-byod","BaseURL":"${weakBase}"}]}`,
    });
    const registry = new Registry();
    const config = configOf({
      tenants: [
        ...tenants('good'),
        {
          name: 'weak',
          domains: ['weak.fixture.test'],
          enroll: {
            version: 'mdm-byod',
            baseUrl: `https://rsa1024.fixture.test:${weak.port}/enroll`,
          },
          watch: { families: ['iPhone'] },
        },
      ],
    });
    const watcher = createDomainWatcher({
      config: () => config,
      net: {
        resolve: [
          {
            host: 'weak.fixture.test',
            port: 443,
            address: '127.0.0.1',
            connectPort: discovery.port,
          },
          { host: '*', port: 443, address: '127.0.0.1', connectPort: fixtures.port },
          { host: '*', port: fixtures.port, address: '127.0.0.1' },
          { host: '*', port: weak.port, address: '127.0.0.1' },
        ],
        ca: pki.caPem,
        timeoutMs: 2000,
      },
      intervalMs: 60_000,
      deepIntervalMs: 3_600_000,
      concurrency: 2,
      logger: createLogger({ level: 'silent', format: 'json' }),
      registry,
    });
    try {
      await watcher.round();
      const expiry =
        /mdm_discovery_watch_baseurl_certificate_expiry_timestamp_seconds\{domain="good\.fixture\.test",host="enroll\.fixture\.test"\} (\d{10})\n/;
      let text = await registry.metrics();
      expect(text).toMatch(expiry);
      const good = 'tenant="good",domain="good.fixture.test"';
      expect(text).toContain(
        `mdm_discovery_watch_check{${good},check="baseurl.tls.certificate"} 0\n`,
      );
      expect(text).toContain(`mdm_discovery_watch_check{${good},check="baseurl.probe"} 0\n`);
      // The domain's own TLS keeps its own label.
      expect(text).toContain(`mdm_discovery_watch_check{${good},check="tls.certificate"} 0\n`);
      const weakLabels = 'tenant="weak",domain="weak.fixture.test"';
      expect(text).toContain(
        `mdm_discovery_watch_check{${weakLabels},check="baseurl.tls.chain-keys"} 2\n`,
      );
      expect(text).toContain(`mdm_discovery_watch_up{${weakLabels}} 0\n`);
      const first = watcher.state().domains.find((d) => d.domain === 'weak.fixture.test');
      expect(first?.deep?.checks.find((c) => c.id === 'tls.chain-keys')?.detail).toContain(
        'rsa1024.fixture.test: the leaf "rsa1024.fixture.test" has RSA 1024 bits',
      );

      // The next round is not deep: the findings are kept, not asked again.
      await watcher.round();
      text = await registry.metrics();
      expect(text).toMatch(expiry);
      expect(text).toContain(`mdm_discovery_watch_up{${weakLabels}} 0\n`);
      const second = watcher.state().domains.find((d) => d.domain === 'weak.fixture.test');
      expect(second?.deep?.checkedAt).toBe(first?.deep?.checkedAt);
      expect(second?.checkedAt).not.toBe(first?.checkedAt);
    } finally {
      await watcher.stop();
      await Promise.all([weak.close(), discovery.close()]);
    }
  });
});

describe('mdm-discovery watch', () => {
  it('watches from its own process, serves /watch, and exits 0 on SIGTERM mid-round', async () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ tenants: tenants('good', 'hold') }));
    const child = startCli(['watch', '--config', file], {
      WATCH_RESOLVE: `*:443:127.0.0.1:${fixtures.port},*:${fixtures.port}:127.0.0.1`,
      WATCH_CA_FILE: join(dir, 'ca.pem'),
      WATCH_INTERVAL: '1h',
      WATCH_TIMEOUT_MS: '30000',
      LOG_LEVEL: 'info',
    });
    const done = finished(child);
    let out = '';
    const admin = await new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const url = /"admin":"(http:\/\/[^"]+)"/.exec(out)?.[1];
        if (url) resolve(url);
      });
      child.once('close', () => reject(new Error(out)));
    });
    // The first round is under way: hold.fixture.test never answers (30 s timeout).
    const watch = await fetch(`${admin}/watch`);
    expect(watch.status).toBe(200);
    expect(await watch.json()).toEqual({ lastRound: null, domains: [] });
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"msg":"watch: stopped"');
  }, 20_000);
});

describe('serve with WATCH_INTERVAL', () => {
  it('watches the config it serves and shows the results on the admin listener', async () => {
    const file = join(dir, 'served.json');
    writeFileSync(file, JSON.stringify({ tenants: tenants('good') }));
    const server = await startCaptured(file, {
      WATCH_CONFIG: 'false',
      WATCH_INTERVAL: '1h',
      WATCH_RESOLVE: `*:443:127.0.0.1:${fixtures.port},*:${fixtures.port}:127.0.0.1`,
      WATCH_CA_FILE: join(dir, 'ca.pem'),
    });
    try {
      const until = Date.now() + 10_000;
      let state: { lastRound: string | null; domains: { domain: string; up: boolean }[] };
      do {
        state = (await (await fetch(`${server.adminUrl}/watch`)).json()) as typeof state;
        if (state.lastRound === null) await new Promise((r) => setTimeout(r, 50));
      } while (state.lastRound === null && Date.now() < until);
      expect(state.domains.map((d) => [d.domain, d.up])).toEqual([['good.fixture.test', true]]);
      const text = await (await fetch(`${server.adminUrl}/metrics`)).text();
      expect(text).toContain(
        'mdm_discovery_watch_up{tenant="good",domain="good.fixture.test"} 1\n',
      );
      // The status page shows the same results.
      const page = await (await fetch(`${server.adminUrl}/status`)).text();
      expect(page).toContain(
        '<tr><td>good.fixture.test<br><span class="muted">good</span></td><td><span class="ok">up</span></td>',
      );
      expect(page).toContain(`Last round: ${state.lastRound}`);
    } finally {
      await server.close();
    }
  });

  it('answers 404 at /watch when the watcher is off', async () => {
    const server = await startCaptured(undefined, { WATCH_CONFIG: 'false' });
    try {
      const res = await fetch(`${server.adminUrl}/watch`);
      expect(res.status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
