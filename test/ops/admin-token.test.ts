// The admin page on first contact: off loopback with no token set, a token is generated and its
// sign-in URL logged once; ADMIN_TOKEN_FILE (a Docker secret) sets one; GET /login?token= signs in.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/config/env.js';
import { ADMIN_TOKEN_GENERATED, adminTokenOf } from '../../src/ops/admin.js';
import { type CapturedServer, startCaptured } from '../helpers/server.js';

const TOKEN = 'a-long-enough-admin-token-0123456789';

/** The admin listener's base URL, reached on loopback (it is bound to the wildcard address). */
const base = (server: CapturedServer) => String(server.adminUrl).replace('0.0.0.0', '127.0.0.1');

const get = (url: string, cookie?: string) =>
  fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });

/** The log lines that announce a generated token. */
const announcements = (server: CapturedServer) =>
  server
    .logs()
    .split('\n')
    .filter((line) => line.includes(ADMIN_TOKEN_GENERATED))
    .map((line) => JSON.parse(line) as { level: number; url: string });

describe('a generated admin token', () => {
  let server: CapturedServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('is logged once as a sign-in URL that opens the page, off loopback with no token set', async () => {
    server = await startCaptured(undefined, { WATCH_CONFIG: 'false', ADMIN_HOST: '0.0.0.0' });
    const lines = announcements(server);
    expect(lines).toHaveLength(1);
    const line = lines[0] as { level: number; url: string };
    expect(line.level).toBe(40); // warn: shown at LOG_LEVEL=warn too
    const url = new URL(line.url);
    expect(url.hostname).toBe('127.0.0.1'); // the wildcard address is reached on the host's loopback
    expect(url.port).toBe(new URL(String(server.adminUrl)).port);
    expect(url.pathname).toBe('/login');
    const token = url.searchParams.get('token') as string;
    expect(token.length).toBeGreaterThanOrEqual(32);

    // Before signing in: the sign-in form, not a dead end.
    const anonymous = await get(`${base(server)}/status`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).toContain('<form method="post" action="/login">');

    // The logged URL sets the cookie and sends the browser on without the token in the address.
    const signIn = await get(line.url);
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe('/status');
    const cookie = (signIn.headers.get('set-cookie') as string).split(';')[0] as string;
    expect(cookie).not.toContain(token);
    const page = await get(`${base(server)}/status`, cookie);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('id="tenants"');
    // The token is a bearer token for /watch too.
    const watch = await fetch(`${base(server)}/watch`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(watch.status).toBe(404); // the watcher is off: past the gate

    // The token is in that one line only.
    expect(server.logs().split(token).length - 1).toBe(1);
  });

  it('is a new one on each start', async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 2; i++) {
      server = await startCaptured(undefined, { WATCH_CONFIG: 'false', ADMIN_HOST: '0.0.0.0' });
      tokens.push(
        new URL((announcements(server)[0] as { url: string }).url).searchParams.get(
          'token',
        ) as string,
      );
      await server.close();
      server = undefined;
    }
    expect(tokens[0]).not.toBe(tokens[1]);
  });

  it('is not announced when a token is set or the listener is on loopback', async () => {
    for (const env of [
      { ADMIN_HOST: '0.0.0.0', ADMIN_TOKEN: TOKEN } as Record<string, string>,
      { ADMIN_HOST: '127.0.0.1' },
      { ADMIN_HOST: 'localhost' },
    ]) {
      server = await startCaptured(undefined, { WATCH_CONFIG: 'false', ...env });
      expect(announcements(server), JSON.stringify(env)).toEqual([]);
      await server.close();
      server = undefined;
    }
  });

  it('GET /login: the form without a token, 401 for a wrong one, 400 for two', async () => {
    server = await startCaptured(undefined, {
      WATCH_CONFIG: 'false',
      ADMIN_HOST: '0.0.0.0',
      ADMIN_TOKEN: TOKEN,
    });
    const form = await get(`${base(server)}/login`);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('<form method="post" action="/login">');
    for (const [query, status] of [
      ['token=wrong-token-of-some-length', 401],
      [`token=${TOKEN.slice(0, -1)}`, 401],
      [`token=${TOKEN}&token=${TOKEN}`, 400],
      ['token=', 401],
    ] as const) {
      const res = await get(`${base(server)}/login?${query}`);
      expect(res.status, query).toBe(status);
      expect(res.headers.get('set-cookie'), query).toBeNull();
    }
    const right = await get(`${base(server)}/login?token=${encodeURIComponent(TOKEN)}`);
    expect(right.status).toBe(303);
    expect(right.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
  });
});

describe('ADMIN_TOKEN_FILE', () => {
  let dir: string;
  let server: CapturedServer | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdm-admin-token-'));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('sets the token from a file, as a Docker secret holds it (trailing newline and all)', async () => {
    const file = join(dir, 'admin_token');
    await writeFile(file, `${TOKEN}\n`);
    server = await startCaptured(undefined, {
      WATCH_CONFIG: 'false',
      ADMIN_HOST: '0.0.0.0',
      ADMIN_TOKEN_FILE: file,
    });
    expect(announcements(server)).toEqual([]);
    const bearer = (token: string) =>
      fetch(`${base(server as CapturedServer)}/status`, {
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await bearer(TOKEN)).status).toBe(200);
    expect((await bearer(`${TOKEN}x`)).status).toBe(401);
    expect(server.logs()).not.toContain(TOKEN);
  });

  it('refuses a missing, short or oversized file, naming it; and both settings at once', async () => {
    const short = join(dir, 'short');
    await writeFile(short, 'abc\n');
    const large = join(dir, 'large');
    await writeFile(large, 'x'.repeat(10_000));
    expect(() => adminTokenOf({ ADMIN_TOKEN_FILE: join(dir, 'missing') })).toThrow(
      `ADMIN_TOKEN_FILE=${join(dir, 'missing')}: `,
    );
    expect(() => adminTokenOf({ ADMIN_TOKEN_FILE: short })).toThrow(
      `ADMIN_TOKEN_FILE=${short}: the token in it must be at least 16 characters`,
    );
    expect(() => adminTokenOf({ ADMIN_TOKEN_FILE: large })).toThrow(`ADMIN_TOKEN_FILE=${large}: `);
    expect(() => adminTokenOf({ ADMIN_TOKEN_FILE: dir })).toThrow(`ADMIN_TOKEN_FILE=${dir}: `);
    expect(() => parseEnv({ ADMIN_TOKEN: TOKEN, ADMIN_TOKEN_FILE: short })).toThrow(
      `ADMIN_TOKEN_FILE="${short}": cannot be set with ADMIN_TOKEN: keep one of the two`,
    );
    // The server refuses to start on it, before it listens.
    await expect(
      startCaptured(undefined, { WATCH_CONFIG: 'false', ADMIN_TOKEN_FILE: short }),
    ).rejects.toThrow(`ADMIN_TOKEN_FILE=${short}`);
  });
});
