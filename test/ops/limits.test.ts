import { connect as netConnect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { appWith, testApp, WELL_KNOWN } from '../helpers/app.js';
import { inject } from '../helpers/dispatch.js';

describe('behind a proxy', () => {
  it('believes X-Forwarded-Host only from a trusted peer', async () => {
    const app = await testApp(undefined, { trustProxy: ['10.0.0.0/8'] });
    const forwarded = {
      host: 'discovery.internal',
      'x-forwarded-host': 'contoso.example',
      'x-forwarded-proto': 'https',
    };
    const trusted = await inject(app, {
      url: WELL_KNOWN,
      headers: forwarded,
      remoteAddress: '10.1.2.3',
    });
    expect(trusted.statusCode).toBe(200);
    const untrusted = await inject(app, {
      url: WELL_KNOWN,
      headers: forwarded,
      remoteAddress: '192.0.2.7',
    });
    expect(untrusted.statusCode).toBe(404);
  });

  it('with a hop count, believes that many proxies in front of it', async () => {
    const app = await testApp(undefined, { trustProxy: 1, limits: { rateLimitPerMinute: 1 } });
    const from = (client: string) =>
      inject(app, {
        url: WELL_KNOWN,
        headers: {
          host: 'discovery.internal',
          'x-forwarded-host': 'contoso.example',
          'x-forwarded-for': client,
        },
        remoteAddress: '10.9.9.9',
      });
    // The host comes from X-Forwarded-Host; the limit counts the forwarded client, not the proxy.
    expect((await from('198.51.100.1')).statusCode).toBe(200);
    expect((await from('198.51.100.2')).statusCode).toBe(200);
    expect((await from('198.51.100.1')).statusCode).toBe(429);
  });

  it('keeps its answer for an address when asked again (trust decisions are remembered)', async () => {
    const app = await testApp(undefined, { trustProxy: ['10.0.0.0/8', '2001:db8::/32'] });
    const ask = (remoteAddress: string) =>
      inject(app, {
        url: WELL_KNOWN,
        headers: { host: 'discovery.internal', 'x-forwarded-host': 'contoso.example' },
        remoteAddress,
      });
    for (let round = 0; round < 3; round++) {
      expect((await ask('10.1.2.3')).statusCode).toBe(200);
      expect((await ask('2001:db8::1')).statusCode).toBe(200);
      expect((await ask('11.1.2.3')).statusCode).toBe(404);
      expect((await ask('2001:db9::1')).statusCode).toBe(404);
    }
  });

  it('ignores forwarded headers entirely when TRUST_PROXY is off', async () => {
    const app = await testApp();
    const res = await inject(app, {
      url: WELL_KNOWN,
      headers: { host: 'discovery.internal', 'x-forwarded-host': 'contoso.example' },
      remoteAddress: '127.0.0.1',
    });
    expect(res.statusCode).toBe(404);
  });

  it('limits per forwarded client address from a trusted proxy, not per proxy', async () => {
    const app = await testApp(undefined, {
      trustProxy: ['10.0.0.0/8'],
      limits: { rateLimitPerMinute: 2 },
    });
    const from = (client: string) =>
      inject(app, {
        url: WELL_KNOWN,
        headers: { host: 'contoso.example', 'x-forwarded-for': client },
        remoteAddress: '10.0.0.1',
      });
    expect((await from('198.51.100.1')).statusCode).toBe(200);
    expect((await from('198.51.100.1')).statusCode).toBe(200);
    expect((await from('198.51.100.1')).statusCode).toBe(429);
    expect((await from('198.51.100.2')).statusCode).toBe(200);
  });
});

describe('limits', () => {
  it('answers 429 with Retry-After past the per-client rate', async () => {
    const app = await testApp(undefined, { limits: { rateLimitPerMinute: 3 } });
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push(await inject(app, { url: WELL_KNOWN, headers: { host: 'contoso.example' } }));
    expect(statuses.map((r) => r.statusCode)).toEqual([200, 200, 200, 429]);
    const limited = statuses[3];
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited?.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited?.body).toBe(
      '{"code":"too_many_requests","message":"Too many requests; retry later"}',
    );
  });

  it('answers 414 to a request target over MAX_URL_LENGTH', async () => {
    const app = await testApp(undefined, { limits: { maxUrlLength: 300 } });
    const res = await inject(app, {
      url: `${WELL_KNOWN}?pad=${'x'.repeat(300)}`,
      headers: { host: 'contoso.example' },
    });
    expect(res.statusCode).toBe(414);
    expect(res.body).toBe('{"code":"client_error","message":"URI Too Long"}');
  });

  it('accepts no request body: 413 for a GET with one', async () => {
    const app = await testApp();
    const res = await inject(app, {
      method: 'GET',
      url: WELL_KNOWN,
      headers: { host: 'contoso.example', 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(res.statusCode).toBe(413);
  });
});

describe('timeouts on a real socket', () => {
  const apps: { close(): Promise<unknown> }[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
  });

  async function listening(limits: object) {
    const app = await appWith(undefined, { limits });
    apps.push(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    return (app.server.address() as { port: number }).port;
  }

  it('answers 408 and closes when headers trickle in slower than HEADERS_TIMEOUT_MS', async () => {
    const port = await listening({ headersTimeoutMs: 300, requestTimeoutMs: 300 });
    const started = Date.now();
    const { data, closedAfter } = await new Promise<{ data: string; closedAfter: number }>(
      (resolve) => {
        const socket = netConnect(port, '127.0.0.1', () =>
          socket.write('GET / HTTP/1.1\r\nHost: contoso.example\r\n'),
        );
        let data = '';
        socket.on('data', (d) => {
          data += d.toString();
        });
        socket.on('close', () => resolve({ data, closedAfter: Date.now() - started }));
      },
    );
    expect(data).toMatch(/^HTTP\/1\.1 408/);
    expect(closedAfter).toBeLessThan(5000);
  });

  it('closes a kept-alive connection left idle past KEEP_ALIVE_TIMEOUT_MS', async () => {
    const port = await listening({ keepAliveTimeoutMs: 200 });
    const closed = await new Promise<boolean>((resolve) => {
      const socket = netConnect(port, '127.0.0.1', () =>
        socket.write(`GET ${WELL_KNOWN} HTTP/1.1\r\nHost: contoso.example\r\n\r\n`),
      );
      socket.on('data', () => {});
      socket.on('close', () => resolve(true));
      setTimeout(() => resolve(false), 3000).unref();
    });
    expect(closed).toBe(true);
  });
});
