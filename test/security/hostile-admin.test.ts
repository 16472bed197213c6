// The admin listener against hostile requests: every spelling of a gated route is gated, the
// sign-in takes one string token, and only a listener bound to loopback skips the token.
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { raw } from '../helpers/raw.js';
import { type CapturedServer, startCaptured } from '../helpers/server.js';

const TOKEN = 'a-long-enough-admin-token-0123456789';
// The module object Node's `net` reads `lookup` from when it listens on a name (ESM bindings are
// read-only, so the test reaches it as CommonJS does).
const dns = createRequire(import.meta.url)('node:dns') as typeof import('node:dns');

/** Percent-escapes the character at `index` of `path` (`%73` for `s`), in upper or lower hex. */
function escapeAt(path: string, index: number, lower = false): string {
  const hex = (path.charCodeAt(index) as number).toString(16).toUpperCase().padStart(2, '0');
  return `${path.slice(0, index)}%${lower ? hex.toLowerCase() : hex}${path.slice(index + 1)}`;
}

/** Spellings of a route path: each character escaped in turn, all of them, and the odd shapes. */
function spellings(path: string): string[] {
  const name = path.slice(1);
  const all = [...name].map((_, i) => i + 1).reduce((p, i) => escapeAt(p, i + 2 * (i - 1)), path);
  return [
    path,
    ...[...name].flatMap((_, i) => [escapeAt(path, i + 1), escapeAt(path, i + 1, true)]),
    all,
    `${path}?`,
    `${path}?q=x&page=2`,
    `${path}#top`,
    `${path}/`,
    `${path.toUpperCase()}`,
    `/.${path}`,
    `/x/..${path}`,
    `/%2e${path}`,
    `//${name}`,
    `${path};x`,
    `${path}%00`,
    `${path}%2F`,
    `/%2F${name}`,
    `/%25${escapeAt(path, 1).slice(2)}`,
    `${path}%20`,
    `${path}\t`,
  ].filter((p, i, list) => p !== '' && list.indexOf(p) === i);
}

const ROUTES = ['/', '/status', '/watch'];

/** Status line and body of a raw GET (or HEAD) of `target`, with the given extra header lines. */
async function ask(server: CapturedServer, target: string, headers = '', method = 'GET') {
  const port = Number(new URL(server.adminUrl as string).port);
  const answer = await raw(
    port,
    `${method} ${target} HTTP/1.1\r\nHost: admin.example\r\n${headers}Connection: close\r\n\r\n`,
  );
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
  return { status, body: answer.slice(answer.indexOf('\r\n\r\n') + 4) };
}

/** What the page or /watch shows when it is served: only a handler that ran writes these. */
function served(body: string): boolean {
  return body.includes('id="tenants"') || body.includes('"status":"off"');
}

describe('the admin gate, off loopback', () => {
  let server: CapturedServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it.each(ROUTES)(
    'gates every spelling of %s that the router serves, with or without ADMIN_TOKEN',
    async (route) => {
      for (const token of [undefined, TOKEN]) {
        server = await startCaptured(undefined, {
          WATCH_CONFIG: 'false',
          ADMIN_HOST: '0.0.0.0',
          ...(token ? { ADMIN_TOKEN: token } : {}),
        });
        let reached = 0;
        for (const target of spellings(route)) {
          for (const method of ['GET', 'HEAD']) {
            const anonymous = await ask(server, target, '', method);
            expect.soft(served(anonymous.body), `${method} ${target}`).toBe(false);
            expect.soft([400, 401, 404], `${method} ${target}`).toContain(anonymous.status);
            if (token === undefined || method === 'HEAD') continue;
            // With the token, the spellings the router serves reach the handler: the gate above
            // was asked for each of them, not passed over.
            // (/watch answers 404 with its own body while the watcher is off.)
            const signedIn = await ask(server, target, `Authorization: Bearer ${token}\r\n`);
            if (served(signedIn.body)) {
              reached++;
              expect(anonymous.status, target).toBe(401);
            } else {
              expect([400, 404], target).toContain(signedIn.status);
            }
          }
        }
        if (token !== undefined) expect(reached).toBeGreaterThan(route.length);
        await server.close();
        server = undefined;
      }
    },
  );

  it('refuses the escaped spellings an attacker used: /%73tatus, /st%61tus, /%77atch', async () => {
    server = await startCaptured(undefined, { WATCH_CONFIG: 'false', ADMIN_HOST: '0.0.0.0' });
    for (const target of ['/%73tatus', '/st%61tus', '/%77atch', '/status?%73']) {
      const answer = await ask(server, target);
      expect(answer.status, target).toBe(401);
      expect(served(answer.body), target).toBe(false);
      expect(answer.body).toMatch(/<form method="post" action="\/login">|"status":"unauthorized"/);
    }
  });

  it('keeps probes and scrapers open without a token', async () => {
    server = await startCaptured(undefined, { WATCH_CONFIG: 'false', ADMIN_HOST: '0.0.0.0' });
    for (const target of ['/healthz', '/readyz', '/metrics', '/%68ealthz']) {
      expect((await ask(server, target)).status, target).toBe(200);
    }
  });
});

describe('the admin gate on loopback', () => {
  it('opens every route and spelling the router serves without a token', async () => {
    const server = await startCaptured(undefined, { WATCH_CONFIG: 'false' });
    try {
      for (const target of ['/', '/status', '/%73tatus', '/status?q=x']) {
        const answer = await ask(server, target);
        expect(answer.status, target).toBe(200);
        expect(served(answer.body), target).toBe(true);
      }
      expect((await ask(server, '/%77atch')).status).toBe(404); // the watcher is off
    } finally {
      await server.close();
    }
  });
});

describe('loopback is the bound address, not the text of ADMIN_HOST', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('needs the token when ADMIN_HOST is a name beginning "127." that resolves elsewhere', async () => {
    const lookup = dns.lookup;
    // `127.attacker.example` resolves, as an attacker's DNS would have it, to a routable address
    // (here the wildcard address, the one a test may bind).
    vi.spyOn(dns, 'lookup').mockImplementation(((
      host: string,
      options: unknown,
      callback?: (...args: unknown[]) => void,
    ) => {
      const done = (typeof options === 'function' ? options : callback) as (
        ...args: unknown[]
      ) => void;
      if (host !== '127.attacker.example') {
        return (lookup as (...args: unknown[]) => void)(host, options, callback);
      }
      const all = typeof options === 'object' && (options as { all?: boolean }).all;
      process.nextTick(() =>
        all ? done(null, [{ address: '0.0.0.0', family: 4 }]) : done(null, '0.0.0.0', 4),
      );
    }) as typeof dns.lookup);
    const server = await startCaptured(undefined, {
      WATCH_CONFIG: 'false',
      ADMIN_HOST: '127.attacker.example',
    });
    try {
      const answer = await ask(server, '/status');
      expect(answer.status).toBe(401);
      expect(served(answer.body)).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('needs no token on localhost (127.0.0.1 and ::1 where it has both)', async () => {
    const server = await startCaptured(undefined, {
      WATCH_CONFIG: 'false',
      ADMIN_HOST: 'localhost',
    });
    try {
      expect((await ask(server, '/status')).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('POST /login', () => {
  let server: CapturedServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const login = (body: string, type: string) =>
    fetch(`${String(server?.adminUrl).replace('0.0.0.0', '127.0.0.1')}/login`, {
      method: 'POST',
      headers: { 'content-type': type },
      body,
      redirect: 'manual',
    });

  it('refuses any token that is not one string with 400, and never answers 5xx', async () => {
    server = await startCaptured(undefined, {
      WATCH_CONFIG: 'false',
      ADMIN_HOST: '0.0.0.0',
      ADMIN_TOKEN: TOKEN,
    });
    const json = 'application/json';
    const form = 'application/x-www-form-urlencoded';
    for (const [body, type] of [
      ['{"token":12345}', json],
      ['{"token":null}', json],
      ['{"token":true}', json],
      [`{"token":["${TOKEN}"]}`, json],
      [`{"token":{"length":36}}`, json],
      ['{}', json],
      ['[]', json],
      ['"x"', json],
      ['12', json],
      [`token=${TOKEN}&token=${TOKEN}`, form],
      ['', form],
      ['tokens=x', form],
      ['__proto__=x', form],
    ] as const) {
      const res = await login(body, type);
      expect(res.status, body).toBe(400);
      expect(res.headers.get('set-cookie'), body).toBeNull();
    }
    expect((await login('token=wrong-token-000000000000', form)).status).toBe(401);
  });

  it('signs in with the one token, as a form or as JSON', async () => {
    server = await startCaptured(undefined, {
      WATCH_CONFIG: 'false',
      ADMIN_HOST: '0.0.0.0',
      ADMIN_TOKEN: TOKEN,
    });
    for (const [body, type] of [
      [`token=${TOKEN}`, 'application/x-www-form-urlencoded'],
      [JSON.stringify({ token: TOKEN }), 'application/json'],
    ] as const) {
      const res = await login(body, type);
      expect(res.status, type).toBe(303);
      expect(res.headers.get('set-cookie')).toMatch(/^mdm_admin=[0-9a-f]{64}; HttpOnly/);
    }
  });
});
