import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WELL_KNOWN_PATH as WELL_KNOWN } from '../../src/protocol.js';
import { type CapturedServer, startCaptured } from '../helpers/server.js';

const tenantConfig = (baseUrl: string, extra: object = {}) =>
  JSON.stringify({
    tenants: [
      {
        name: 'contoso',
        domains: ['contoso.example'],
        enroll: { version: 'mdm-byod', baseUrl },
        ...extra,
      },
      {
        name: 'fabrikam',
        domains: ['fabrikam.example'],
        enroll: { version: 'mdm-adde', baseUrl: `${baseUrl}/f` },
      },
    ],
  });
const body = (baseUrl: string) => `{"Servers":[{"Version":"mdm-byod","BaseURL":"${baseUrl}"}]}`;
const A = 'https://a.example/enroll';
const B = 'https://b.example/enroll';

let dir: string;
let server: CapturedServer | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mdm-reload-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function ask(host = 'contoso.example', dispatcher?: Agent) {
  const res = await request(`${server?.url}${WELL_KNOWN}`, {
    headers: { host },
    ...(dispatcher ? { dispatcher } : {}),
  });
  return { status: res.statusCode, body: await res.body.text() };
}

async function eventually(check: () => boolean | Promise<boolean>, ms = 5000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

async function metrics(): Promise<string> {
  const res = await request(`${server?.adminUrl}/metrics`);
  return res.body.text();
}

describe('reload', () => {
  it('swaps configs under concurrent requests: no failure, every answer wholly old or new', async () => {
    const file = join(dir, 'config.json');
    await writeFile(file, tenantConfig(A));
    server = await startCaptured(file, { WATCH_CONFIG: 'false', RATE_LIMIT_PER_MINUTE: '0' });
    const agent = new Agent({ connections: 8 });
    let stop = false;
    const seen = { a: 0, b: 0, other: 0, failed: 0 };
    const client = async () => {
      while (!stop) {
        try {
          const r = await ask('contoso.example', agent);
          if (r.status !== 200) seen.failed++;
          else if (r.body === body(A)) seen.a++;
          else if (r.body === body(B)) seen.b++;
          else seen.other++;
        } catch {
          seen.failed++;
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    for (let i = 0; i < 20; i++) {
      await writeFile(file, tenantConfig(i % 2 === 0 ? B : A));
      expect(await server.reload('test')).toBe(true);
      await new Promise((r) => setTimeout(r, 25));
    }
    stop = true;
    await Promise.all(clients);
    await agent.close();
    expect(seen.failed).toBe(0);
    expect(seen.other).toBe(0);
    expect(seen.a).toBeGreaterThan(0);
    expect(seen.b).toBeGreaterThan(0);
    expect(server.generation()).toBe(21);
  });

  it('reads and validates a reload in a worker thread', async () => {
    const file = join(dir, 'config.json');
    await writeFile(file, tenantConfig(A));
    server = await startCaptured(file);
    await writeFile(file, tenantConfig(B));
    expect(await server.reload('test')).toBe(true);
    expect((await ask()).body).toBe(body(B));
    expect(server.logs()).toMatch(/"thread":"worker".*"msg":"config reloaded"/);
    expect(server.logs()).not.toContain('reload worker unavailable');
  });

  it('refuses an invalid config, keeps the old answers, stays ready and counts the failure', async () => {
    const file = join(dir, 'config.json');
    await writeFile(file, tenantConfig(A));
    server = await startCaptured(file, { WATCH_CONFIG: 'false' });
    await writeFile(file, tenantConfig('http://insecure.example/enroll'));
    expect(await server.reload('test')).toBe(false);
    expect(await ask()).toEqual({ status: 200, body: body(A) });
    expect(server.generation()).toBe(1);
    const ready = await request(`${server.adminUrl}/readyz`);
    expect(ready.statusCode).toBe(200);
    expect(await ready.body.text()).toBe('{"status":"ready"}');
    expect(await metrics()).toContain('mdm_discovery_config_reload_failures_total 1\n');
    expect(server.logs()).toContain(
      `tenants[0].enroll.baseUrl: \\"http://insecure.example/enroll\\" must use https`,
    );
    expect(server.logs()).toContain('config reload refused: still serving the last good config');
  });

  it('reloads when the file changes, once per burst, and not for a touch', async () => {
    const file = join(dir, 'config.json');
    await writeFile(file, tenantConfig(A));
    server = await startCaptured(file, { RELOAD_DEBOUNCE_MS: '100' });
    for (let i = 0; i < 5; i++) await writeFile(file, tenantConfig(B));
    await eventually(async () => (await ask()).body === body(B));
    await new Promise((r) => setTimeout(r, 400));
    expect(server.generation()).toBe(2);
    await writeFile(file, tenantConfig(B)); // same content: no new generation
    await new Promise((r) => setTimeout(r, 400));
    expect(server.generation()).toBe(2);
    expect(await metrics()).toContain('mdm_discovery_config_generation 2\n');
  });

  it('follows a Kubernetes ConfigMap volume: the ..data symlink is swapped', async () => {
    const volume = join(dir, 'volume');
    await mkdir(join(volume, '..v1'), { recursive: true });
    await writeFile(join(volume, '..v1', 'tenants.json'), tenantConfig(A));
    await symlink('..v1', join(volume, '..data'));
    await symlink(join('..data', 'tenants.json'), join(volume, 'tenants.json'));
    server = await startCaptured(volume, { RELOAD_DEBOUNCE_MS: '100' });
    expect((await ask()).body).toBe(body(A));
    // What the kubelet does: write a new timestamped folder, then atomically swap ..data.
    await mkdir(join(volume, '..v2'));
    await writeFile(join(volume, '..v2', 'tenants.json'), tenantConfig(B));
    await symlink('..v2', join(volume, '..data_tmp'));
    await rename(join(volume, '..data_tmp'), join(volume, '..data'));
    await eventually(async () => (await ask()).body === body(B));
  });

  it('reloads when a users file changes', async () => {
    const file = join(dir, 'config.json');
    await writeFile(join(dir, 'cohort.txt'), 'joe@contoso.example\n');
    await writeFile(
      file,
      tenantConfig(A, {
        rules: [
          {
            name: 'cohort',
            when: { usersFile: 'cohort.txt' },
            enroll: { version: 'mdm-byod', baseUrl: B },
          },
        ],
      }),
    );
    server = await startCaptured(file, { RELOAD_DEBOUNCE_MS: '100' });
    const askAnn = async () => {
      const res = await request(`${server?.url}${WELL_KNOWN}?user-identifier=ann@contoso.example`, {
        headers: { host: 'contoso.example' },
      });
      return res.body.text();
    };
    expect(await askAnn()).toBe(body(A));
    await writeFile(join(dir, 'cohort.txt'), 'joe@contoso.example\nann@contoso.example\n');
    await eventually(async () => (await askAnn()) === body(B));
  });
});

describe('metrics', () => {
  it('counts requests by configured tenant, outcome and status; unknown hosts as "none"', async () => {
    const file = join(dir, 'config.json');
    await writeFile(file, tenantConfig(A));
    server = await startCaptured(file, { WATCH_CONFIG: 'false' });
    await ask();
    await ask();
    await ask('unknown-1.example');
    await ask('unknown-2.example');
    const text = await metrics();
    expect(text).toContain(
      'mdm_discovery_requests_total{tenant="contoso",outcome="enroll",status="200"} 2\n',
    );
    expect(text).toContain(
      'mdm_discovery_requests_total{tenant="none",outcome="unknown_host",status="404"} 2\n',
    );
    expect(text).not.toContain('unknown-1');
    expect(text).toContain('mdm_discovery_request_duration_seconds_count 4\n');
    expect(text).toContain('mdm_discovery_config_generation 1\n');
    expect(text).toContain('mdm_discovery_config_tenants 2\n');
    expect(text).toMatch(/\nprocess_resident_memory_bytes \d+/);
    const health = await request(`${server.adminUrl}/healthz`);
    expect(await health.body.text()).toBe('{"status":"ok"}');
  });
});
