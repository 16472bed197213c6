// Hostile requests against the real app and the real server: nothing tells a hidden tenant from an
// unknown host, no second spelling of a host reaches a tenant, and every answer is counted.
import { writeFile } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { connect as connectTls } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appWith, PRESETS, WELL_KNOWN } from '../helpers/app.js';
import { inject } from '../helpers/dispatch.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { raw } from '../helpers/raw.js';
import { startCaptured, startHttps as startHttpsServer } from '../helpers/server.js';

const HIDDEN = {
  tenants: [
    ...(PRESETS.tenants as object[]),
    {
      name: 'hidden',
      domains: ['hidden.example'],
      notFound: true,
      rules: [
        {
          name: 'pilot',
          when: { users: ['ann@hidden.example'] },
          enroll: { version: 'mdm-byod', baseUrl: 'https://mdm.hidden.example/enroll' },
        },
      ],
    },
  ],
};

/** Status, headers (but Date) and body: what must be identical byte for byte. */
function shape(res: { statusCode: number; headers: Record<string, unknown>; body: string }) {
  const { date: _date, ...headers } = res.headers;
  return { status: res.statusCode, headers, body: res.body };
}

describe('a hidden tenant (its own action notFound)', () => {
  it.each([
    'user-identifier=%zz',
    'model-family=%zz',
    'user-identifier=ann@hidden.example&model-family=%E0%A4%A',
    'user-identifier=%',
  ])('answers ?%s with the very bytes of an unknown host', async (query) => {
    const app = await appWith(HIDDEN);
    try {
      const ask = async (host: string) =>
        shape(await inject(app, { url: `${WELL_KNOWN}?${query}`, headers: { host } }));
      const unknown = await ask('nobody-here.example');
      expect(unknown.status).toBe(404);
      expect(await ask('hidden.example')).toEqual(unknown);
      // A tenant that does enroll still says what is wrong with the query.
      expect((await ask('contoso.example')).status).toBe(400);
    } finally {
      await app.close();
    }
  });
});

describe('Host spellings that no browser or device sends', () => {
  it.each([
    '%63ontoso.example',
    'contoso%2eexample',
    'contoso.example:99999',
    'contoso.example:0',
    'contoso.example:-1',
    'con\u00adtoso.example',
    '\uff43\uff4f\uff4e\uff54\uff4f\uff53\uff4f.example',
    'contoso.example..',
    'contoso_.example',
  ])('%s gets the unknown-host 404', async (host) => {
    const app = await appWith();
    try {
      const ask = async (h: string) =>
        shape(
          await inject(app, { url: `${WELL_KNOWN}?model-family=iPhone`, headers: { host: h } }),
        );
      expect(await ask(host)).toEqual(await ask('nobody-here.example'));
      expect((await ask('contoso.example:443')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('still accepts a Unicode domain as UTF-8 and as punycode', async () => {
    const app = await appWith();
    try {
      for (const host of ['xn--bcher-kva.example', 'BÜCHER.example']) {
        const res = await inject(app, { url: WELL_KNOWN, headers: { host } });
        expect(res.statusCode).toBe(200);
      }
    } finally {
      await app.close();
    }
  });
});

describe('request targets and Host headers on a real socket', () => {
  it('refuses two Host headers with 400, and lets an absolute-form target choose the tenant', async () => {
    const app = await appWith();
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const port = (app.server.address() as { port: number }).port;
      const twice = await raw(
        port,
        `GET ${WELL_KNOWN} HTTP/1.1\r\nHost: fabrikam.example\r\nHost: contoso.example\r\nConnection: close\r\n\r\n`,
      );
      expect(twice).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      const absolute = await raw(
        port,
        `GET http://fabrikam.example${WELL_KNOWN}?model-family=iPhone HTTP/1.1\r\nHost: contoso.example\r\nConnection: close\r\n\r\n`,
      );
      expect(absolute).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(absolute).toContain('fabrikam.jamfcloud.com');
      const userinfo = await raw(
        port,
        `GET http://x@contoso.example${WELL_KNOWN} HTTP/1.1\r\nHost: contoso.example\r\nConnection: close\r\n\r\n`,
      );
      expect(userinfo).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    } finally {
      await app.close();
    }
  });
});

describe('the rate limit at its capacity', () => {
  const askFrom = (app: FastifyInstance) => async (client: string) =>
    (
      await inject(app, {
        url: WELL_KNOWN,
        headers: { host: 'contoso.example', 'x-forwarded-for': client },
      })
    ).statusCode;

  it('estimates every address past the table, so a flood does not lock out a new device', async () => {
    const app = await appWith(undefined, {
      trustProxy: 1,
      limits: { rateLimitPerMinute: 2, rateLimitClients: 3 },
    });
    try {
      const ask = askFrom(app);
      // Three addresses fill the table; each keeps its own budget of two.
      for (const client of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) {
        expect([await ask(client), await ask(client), await ask(client)]).toEqual([200, 200, 429]);
      }
      // A flood of 2,000 further addresses, each within its own budget, is served...
      const flood = [];
      for (let i = 0; i < 2000; i++) flood.push(await ask(`198.51.${i >> 8}.${i & 255}`));
      expect(flood.filter((s) => s !== 200)).toEqual([]);
      // ...and does not cost a device asking for the first time its answer, nor its budget.
      expect([await ask('203.0.113.9'), await ask('203.0.113.9')]).toEqual([200, 200]);
      // An address past the table that floods is still refused past its budget.
      expect([
        await ask('203.0.113.7'),
        await ask('203.0.113.7'),
        await ask('203.0.113.7'),
      ]).toEqual([200, 200, 429]);
    } finally {
      await app.close();
    }
  });

  it('counts an IPv6 /64 as one client, and IPv4-mapped addresses one by one', async () => {
    const app = await appWith(undefined, { trustProxy: 1, limits: { rateLimitPerMinute: 3 } });
    try {
      const ask = askFrom(app);
      // One host's /64: however many addresses it uses, three answers in all.
      const sixtyFour = [];
      for (let i = 1; i <= 50; i++)
        sixtyFour.push(await ask(`2001:db8:1:2:${i.toString(16)}::${i}`));
      expect(sixtyFour.filter((s) => s === 200)).toHaveLength(3);
      expect(await ask('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe(429);
      // The next /64 and a device on IPv4 (plain or mapped) are their own clients.
      expect(await ask('2001:db8:1:3::1')).toBe(200);
      expect(await ask('::ffff:192.0.2.10')).toBe(200);
      expect(await ask('::ffff:192.0.2.11')).toBe(200);
      expect(await ask('192.0.2.10')).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('takes the prefix from the settings: /128 counts each address', async () => {
    const app = await appWith(undefined, {
      trustProxy: 1,
      limits: { rateLimitPerMinute: 1, rateLimitIpv6Prefix: 128 },
    });
    try {
      const ask = askFrom(app);
      expect([
        await ask('2001:db8::1'),
        await ask('2001:db8::2'),
        await ask('2001:db8::1'),
      ]).toEqual([200, 200, 429]);
    } finally {
      await app.close();
    }
  });
});

describe('logs under attack', () => {
  it('never carry an address: not the raw request at trace, not a family or domain that holds one', async () => {
    const server = await startCaptured(undefined, {
      LOG_LEVEL: 'trace',
      WATCH_CONFIG: 'false',
      RATE_LIMIT_PER_MINUTE: '0',
    });
    try {
      const port = Number(new URL(server.url).port);
      // A header line without a colon: Node's parser refuses it; Fastify logs the client error.
      await raw(
        port,
        `GET ${WELL_KNOWN}?user-identifier=victim1@contoso.example HTTP/1.1\r\nHost: contoso.example\r\nNo colon here\r\n\r\n`,
      );
      for (const query of [
        'user-identifier=ann@contoso.example&model-family=victim2@contoso.example',
        'user-identifier=a@victim3%2540evil.example&model-family=iPhone',
        'user-identifier=a@victim4%40evil.example',
      ]) {
        const res = await request(`${server.url}${WELL_KNOWN}?${query}`, {
          headers: { host: 'contoso.example' },
        });
        await res.body.text();
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      const logs = server.logs();
      expect(logs).toContain('"msg":"client error"');
      expect(logs).not.toMatch(/victim|rawPacket|%40|%2540/);
      const lines = logs
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === 'discovery');
      expect(lines.map((l) => [l.modelFamily, l.userDomain])).toEqual([
        ['other', 'contoso.example'],
        ['iPhone', 'invalid'],
        // Decoded, the last @ starts the domain: a domain, not an address.
        [undefined, 'evil.example'],
      ]);
    } finally {
      await server.close();
    }
  });
});

describe('metrics', () => {
  it('count every answer under its own outcome, 429s and refusals included', async () => {
    const server = await startCaptured(undefined, {
      WATCH_CONFIG: 'false',
      RATE_LIMIT_PER_MINUTE: '3',
      MAX_URL_LENGTH: '256',
    });
    try {
      const ask = async (path: string, init: { method?: 'GET' | 'POST'; host?: string } = {}) => {
        const res = await request(`${server.url}${path}`, {
          method: init.method ?? 'GET',
          headers: { host: init.host ?? 'contoso.example' },
        });
        await res.body.text();
        return res.statusCode;
      };
      expect(await ask(WELL_KNOWN)).toBe(200);
      expect(await ask(WELL_KNOWN, { method: 'POST' })).toBe(405);
      expect(await ask(`/other?${'x'.repeat(300)}`)).toBe(414);
      expect(await ask('/other')).toBe(404);
      expect(await ask(WELL_KNOWN)).toBe(429);
      expect(await ask(WELL_KNOWN)).toBe(429);
      const metrics = await (await request(`${server.adminUrl}/metrics`)).body.text();
      for (const line of [
        'mdm_discovery_requests_total{tenant="contoso",outcome="enroll",status="200"} 1',
        'mdm_discovery_requests_total{tenant="none",outcome="method_not_allowed",status="405"} 1',
        'mdm_discovery_requests_total{tenant="none",outcome="url_too_long",status="414"} 1',
        'mdm_discovery_requests_total{tenant="none",outcome="other_path",status="404"} 1',
        'mdm_discovery_requests_total{tenant="none",outcome="rate_limited",status="429"} 2',
      ]) {
        expect(metrics).toContain(`${line}\n`);
      }
    } finally {
      await server.close();
    }
  });
});

describe('HTTPS served directly, against hostile clients', () => {
  let pki: Pki;
  beforeAll(() => {
    pki = makePki();
  }, 20_000);
  afterAll(() => pki.dispose());

  const startHttps = (env: Record<string, string> = {}) =>
    startHttpsServer(pki, tmpdir(), `mdm-hostile-${process.pid}`, env);

  it('closes a connection whose handshake never finishes after HEADERS_TIMEOUT_MS, not 120 s', async () => {
    const { server, port } = await startHttps({ HEADERS_TIMEOUT_MS: '500' });
    try {
      const closed = await new Promise<boolean>((resolve) => {
        const socket = connectTcp(port, '127.0.0.1');
        socket.on('error', () => {});
        socket.on('close', () => resolve(true));
        setTimeout(() => {
          socket.destroy();
          resolve(false);
        }, 10_000);
      });
      expect(closed).toBe(true);
    } finally {
      await server.close();
    }
  }, 20_000);

  it('answers 408 and closes when headers, begun after the handshake, stall past HEADERS_TIMEOUT_MS', async () => {
    // Node's default over HTTPS is 60 s, checked every 30 s: Fastify handed the timeouts to a
    // plain HTTP server only, and the HTTPS one kept the defaults.
    const { server, port } = await startHttps({ HEADERS_TIMEOUT_MS: '500' });
    try {
      const outcome = await new Promise<{ text: string; closed: boolean }>((resolve) => {
        let text = '';
        const socket = connectTls({
          host: '127.0.0.1',
          port,
          servername: 'contoso.example',
          ca: pki.caPem,
        });
        socket.on('secureConnect', () =>
          socket.write('GET / HTTP/1.1\r\nHost: contoso.example\r\n'),
        );
        socket.on('data', (chunk: Buffer) => {
          text += chunk.toString('latin1');
        });
        socket.on('error', () => {});
        socket.on('close', () => resolve({ text, closed: true }));
        setTimeout(() => {
          socket.destroy();
          resolve({ text, closed: false });
        }, 8000);
      });
      expect(outcome.closed).toBe(true);
      expect(outcome.text).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      await server.close();
    }
  }, 20_000);

  it('refuses a client-initiated TLS 1.2 renegotiation', async () => {
    const { server, port } = await startHttps();
    try {
      const outcome = await new Promise<string>((resolve) => {
        const socket = connectTls({
          host: '127.0.0.1',
          port,
          servername: 'contoso.example',
          ca: pki.caPem,
          maxVersion: 'TLSv1.2',
        });
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`));
        socket.on('close', () => resolve('closed'));
        socket.once('secureConnect', () => {
          socket.renegotiate({}, (error) => {
            resolve(error === null ? 'renegotiated' : `error ${error.message}`);
          });
          // The renegotiation goes out with the next bytes.
          socket.write(`GET ${WELL_KNOWN} HTTP/1.1\r\nHost: contoso.example\r\n\r\n`);
        });
      });
      expect(outcome).toMatch(/^error /);
    } finally {
      await server.close();
    }
  });

  it('counts a refused TLS certificate reload', async () => {
    const { server, key } = await startHttps();
    try {
      await writeFile(key, pki.leaf(['contoso.example']).key);
      expect(await server.reload('test')).toBe(false);
      const metrics = await (await request(`${server.adminUrl}/metrics`)).body.text();
      expect(metrics).toContain('mdm_discovery_config_reload_failures_total 1\n');
    } finally {
      await server.close();
    }
  });
});
