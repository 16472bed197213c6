import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConnectionOptions, connect } from 'node:tls';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WELL_KNOWN_PATH as WELL_KNOWN } from '../../src/protocol.js';
import { finished, listening, startCli } from '../helpers/cli.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { startCaptured, startHttps as startHttpsServer } from '../helpers/server.js';

let pki: Pki;
let dir: string;
beforeAll(async () => {
  pki = makePki();
  dir = await mkdtemp(join(tmpdir(), 'mdm-tls-'));
}, 20_000);
afterAll(async () => {
  pki.dispose();
  await rm(dir, { recursive: true, force: true });
});

function handshake(port: number, options: Partial<ConnectionOptions> = {}) {
  return new Promise<{
    protocol?: string | null;
    cipher?: string;
    serial?: string;
    error?: string;
  }>((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      servername: 'contoso.example',
      ca: pki.caPem,
      ...options,
    });
    socket.once('secureConnect', () => {
      resolve({
        protocol: socket.getProtocol(),
        cipher: socket.getCipher().name,
        serial: socket.getPeerCertificate().serialNumber,
      });
      socket.destroy();
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      resolve({ error: error.code ?? error.message }),
    );
  });
}

const startHttps = (name: string, env: Record<string, string> = {}) =>
  startHttpsServer(pki, dir, name, env);

describe('HTTPS served directly (TLS_CERT_FILE, TLS_KEY_FILE)', () => {
  it('negotiates TLS 1.2+ with forward-secret AEAD suites only, and picks up a renewed certificate', async () => {
    const { server, cert, key } = await startHttps('renewal');
    try {
      const port = Number(new URL(server.url).port);
      expect(server.url).toMatch(/^https:/);
      const modern = await handshake(port);
      expect(modern.protocol).toBe('TLSv1.3');
      const tls12 = await handshake(port, { maxVersion: 'TLSv1.2' });
      expect(tls12).toMatchObject({ protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
      expect(
        (
          await handshake(port, {
            minVersion: 'TLSv1',
            maxVersion: 'TLSv1.1',
            ciphers: 'DEFAULT@SECLEVEL=0',
          })
        ).error,
      ).toBeDefined();
      expect(
        (await handshake(port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' })).error,
      ).toBeDefined();

      // Renewal: new files, then SIGHUP's reload (the file watch calls the same).
      const renewed = pki.leaf(['contoso.example']);
      await writeFile(cert, renewed.cert);
      await writeFile(key, renewed.key);
      expect(await server.reload('test')).toBe(true);
      const after = await handshake(port);
      expect(after.serial).not.toBe(modern.serial);

      // A key that does not match its certificate is refused; the renewed one keeps serving.
      await writeFile(key, pki.leaf(['contoso.example']).key);
      expect(await server.reload('test')).toBe(false);
      expect((await handshake(port)).serial).toBe(after.serial);
      expect(server.logs()).toContain('TLS certificate reload refused');
    } finally {
      await server.close();
    }
  });
});

describe('silent connections', () => {
  it('closes a TLS connection that completes its handshake and never sends a request', async () => {
    const { server } = await startHttps('silent', { HEADERS_TIMEOUT_MS: '1000' });
    try {
      const started = Date.now();
      const closedAfter = await new Promise<number>((resolve) => {
        const socket = connect({
          host: '127.0.0.1',
          port: Number(new URL(server.url).port),
          servername: 'contoso.example',
          ca: pki.caPem,
        });
        socket.on('error', () => {});
        socket.on('close', () => resolve(Date.now() - started));
        setTimeout(() => {
          socket.destroy();
          resolve(Number.POSITIVE_INFINITY);
        }, 8000);
      });
      expect(closedAfter).toBeLessThan(5000);
    } finally {
      await server.close();
    }
  });
});

describe('shutdown', () => {
  it('drains requests in flight, answers the rest cleanly, then refuses new connections', async () => {
    const server = await startCaptured(undefined, {
      RATE_LIMIT_PER_MINUTE: '0',
      WATCH_CONFIG: 'false',
    });
    const agent = new Agent({ connections: 10 });
    const body = await (
      await request(`${server.url}${WELL_KNOWN}`, { headers: { host: 'contoso.example' } })
    ).body.text();
    let settled = 0;
    const results = Array.from({ length: 400 }, async () => {
      try {
        const res = await request(`${server.url}${WELL_KNOWN}`, {
          headers: { host: 'contoso.example' },
          dispatcher: agent,
        });
        const text = await res.body.text();
        return res.statusCode === 200
          ? text === body
            ? 'ok'
            : 'truncated'
          : String(res.statusCode);
      } catch (error) {
        return `error ${(error as { code?: string }).code}`;
      } finally {
        settled++;
      }
    });
    while (settled < 100) await new Promise((r) => setImmediate(r));
    const how = await server.shutdown();
    const outcomes = await Promise.all(results);
    await agent.close();
    expect(how).toBe('drained');
    const counts: Record<string, number> = {};
    for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
    // Every answer is whole: 200 with the exact body, also for a request that arrives on an open
    // connection during the drain (it gets Connection: close, never a 503); connections are
    // closed only once quiet, so no request already on its way is cut. Requests not yet sent
    // find the listener closed (ECONNREFUSED).
    expect(Object.keys(counts).every((k) => ['ok', 'error ECONNREFUSED'].includes(k))).toBe(true);
    expect(counts.ok).toBeGreaterThanOrEqual(100);
    await expect(
      request(`${server.url}${WELL_KNOWN}`, { headers: { host: 'contoso.example' } }),
    ).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('exits 0 on SIGTERM and reloads on SIGHUP (the real process)', async () => {
    const file = join(dir, 'sighup.json');
    const config = (baseUrl: string) =>
      JSON.stringify({
        tenants: [{ name: 'c', domains: ['c.example'], enroll: { version: 'mdm-byod', baseUrl } }],
      });
    await writeFile(file, config('https://a.example/e'));
    const child = startCli(['serve'], {
      PORT: '0',
      MDM_DISCOVERY_CONFIG: file,
      WATCH_CONFIG: 'false',
    });
    const done = finished(child);
    const url = await listening(child);
    const ask = async () =>
      (await request(`${url}${WELL_KNOWN}`, { headers: { host: 'c.example' } })).body.text();
    expect(await ask()).toContain('https://a.example/e');
    await writeFile(file, config('https://b.example/e'));
    child.kill('SIGHUP');
    const until = Date.now() + 5000;
    while (!(await ask()).includes('https://b.example/e') && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    expect(await ask()).toContain('https://b.example/e');
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"msg":"config reloaded"');
    expect(result.stdout).toContain('"how":"drained"');
  });
});

describe('probes while draining', () => {
  it('answers /readyz 503 and /healthz 200 until the drain ends', async () => {
    const server = await startCaptured(undefined, {
      RATE_LIMIT_PER_MINUTE: '0',
      WATCH_CONFIG: 'false',
    });
    const agent = new Agent({ connections: 1 });
    let busy = true;
    let stopped: Promise<'drained' | 'forced'> | undefined;
    const probe = async (path: string) => {
      const res = await request(`${server.adminUrl}${path}`);
      return { status: res.statusCode, body: await res.body.json() };
    };
    try {
      expect(await probe('/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
      // A busy client keeps the drain going (a connection is closed only after 250 ms quiet).
      const client = (async () => {
        while (busy) {
          try {
            const res = await request(`${server.url}${WELL_KNOWN}`, {
              headers: { host: 'contoso.example' },
              dispatcher: agent,
            });
            await res.body.text();
          } catch {
            // Refused once the drain has closed the listener: expected.
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 100));
      stopped = server.shutdown();
      expect(await probe('/readyz')).toEqual({ status: 503, body: { status: 'not_ready' } });
      expect(await probe('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
      busy = false;
      await client;
      expect(await stopped).toBe('drained');
      await expect(probe('/healthz')).rejects.toThrow();
    } finally {
      busy = false;
      await agent.close();
      await (stopped ?? server.shutdown());
    }
  });

  it('answers the public /readyz 503 on a connection still open once the drain has begun', async () => {
    const server = await startCaptured(undefined, {
      RATE_LIMIT_PER_MINUTE: '0',
      WATCH_CONFIG: 'false',
    });
    const agent = new Agent({ connections: 1 });
    const seen: string[] = [];
    let stopped: Promise<'drained' | 'forced'> | undefined;
    try {
      // A load balancer asking on its kept-alive connection, before and during the drain.
      const balancer = (async () => {
        for (;;) {
          try {
            const res = await request(`${server.url}/readyz`, { dispatcher: agent });
            seen.push(`${stopped ? 'after' : 'before'} ${res.statusCode}`);
            await res.body.text();
          } catch {
            return; // the listener is closed: the drain is over
          }
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 100));
      stopped = server.shutdown();
      await balancer;
      expect(await stopped).toBe('drained');
      expect(seen.filter((s) => s.startsWith('before'))).not.toEqual([]);
      expect(seen.filter((s) => s.startsWith('before')).every((s) => s === 'before 200')).toBe(
        true,
      );
      expect(seen).toContain('after 503');
    } finally {
      await agent.close();
      await (stopped ?? server.shutdown());
    }
  });
});
