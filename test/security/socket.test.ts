// Malformed traffic at the socket: raw TCP to the real listening server (startServer, as
// `mdm-discovery serve` runs it). Each case is answered with a 4xx or a closed connection, a
// well-behaved client is served throughout, and memory comes back afterwards.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WELL_KNOWN_PATH as WELL_KNOWN } from '../../src/protocol.js';
import { type CapturedServer, startCaptured } from '../helpers/server.js';

let server: CapturedServer;
let port: number;

beforeAll(async () => {
  // The embedded demo config; short timeouts so that slow clients are cut within the test.
  server = await startCaptured(undefined, {
    HEADERS_TIMEOUT_MS: '1000',
    REQUEST_TIMEOUT_MS: '2000',
    KEEP_ALIVE_TIMEOUT_MS: '1000',
  });
  port = Number(new URL(server.url).port);
});
afterAll(async () => {
  await server.close();
});

interface Exchange {
  readonly text: string;
  /** Whether the server closed the connection before the wait ended. */
  readonly closed: boolean;
}

/** Writes the chunks (a pause between them, when given) and reads until the server closes or `waitMs` pass. */
function exchange(chunks: (string | Buffer)[], waitMs = 3000, pauseMs = 0): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed });
    }, waitMs);
    socket.on('data', (d) => {
      text += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ text, closed });
    });
    socket.once('connect', async () => {
      try {
        for (const chunk of chunks) {
          if (socket.destroyed) break;
          socket.write(chunk);
          if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
        }
      } catch (error) {
        reject(error);
      }
    });
  });
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);

async function wellBehaved(): Promise<number> {
  const res = await request(`${server.url}${WELL_KNOWN}?user-identifier=joe@contoso.example`, {
    headers: { host: 'contoso.example' },
  });
  await res.body.text();
  return res.statusCode;
}

/** A well-behaved client asking every 50 ms until `stop` resolves; returns the statuses seen. */
async function servedThroughout(stop: Promise<unknown>): Promise<number[]> {
  const statuses: number[] = [];
  let done = false;
  void stop.finally(() => {
    done = true;
  });
  while (!done) {
    statuses.push(await wellBehaved());
    await new Promise((r) => setTimeout(r, 50));
  }
  return statuses;
}

describe('malformed traffic', () => {
  it('an invalid request line gets 400 and a closed connection', async () => {
    const result = await exchange(['HELLO THERE\r\n\r\n']);
    expect(statusOf(result.text)).toBe(400);
    expect(result.closed).toBe(true);
  });

  it('raw bytes that are not HTTP get 400 and a closed connection', async () => {
    const result = await exchange([Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x0d, 0x0a])]);
    expect(statusOf(result.text)).toBe(400);
    expect(result.closed).toBe(true);
  });

  it('headers over 16 KiB get 431 and a closed connection', async () => {
    const result = await exchange([
      `GET ${WELL_KNOWN} HTTP/1.1\r\nHost: contoso.example\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`,
    ]);
    expect(statusOf(result.text)).toBe(431);
    expect(result.closed).toBe(true);
  });

  it('Content-Length together with Transfer-Encoding gets 400 (no request smuggling)', async () => {
    const result = await exchange([
      `POST ${WELL_KNOWN} HTTP/1.1\r\nHost: contoso.example\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: contoso.example\r\n\r\n`,
    ]);
    expect(statusOf(result.text)).toBe(400);
    expect(result.text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(result.closed).toBe(true);
  });

  it('a GET with a body gets 413', async () => {
    const result = await exchange(
      [`GET ${WELL_KNOWN} HTTP/1.1\r\nHost: contoso.example\r\nContent-Length: 5\r\n\r\nhello`],
      1500,
    );
    expect(statusOf(result.text)).toBe(413);
  });

  it('a NUL or a raw control byte in the request target gets 400', async () => {
    for (const target of [`${WELL_KNOWN}?user-identifier=a\x00b`, `${WELL_KNOWN}\x7f`]) {
      const result = await exchange([`GET ${target} HTTP/1.1\r\nHost: contoso.example\r\n\r\n`]);
      expect(statusOf(result.text)).toBe(400);
    }
  });

  it('raw UTF-8 and invalid UTF-8 bytes in the query get a 4xx or their answer, never a 5xx', async () => {
    for (const bytes of [Buffer.from('joé@contoso.example'), Buffer.from([0xc3, 0x28, 0xff])]) {
      const result = await exchange(
        [
          Buffer.concat([
            Buffer.from(`GET ${WELL_KNOWN}?user-identifier=`),
            bytes,
            Buffer.from(' HTTP/1.1\r\nHost: contoso.example\r\nConnection: close\r\n\r\n'),
          ]),
        ],
        1500,
      );
      const status = statusOf(result.text);
      expect(status === 200 || (status >= 400 && status < 500)).toBe(true);
    }
  });

  it('pipelined requests are each answered, in order', async () => {
    const ask = (host: string, close = false) =>
      `GET ${WELL_KNOWN}?model-family=iPad HTTP/1.1\r\nHost: ${host}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
    const result = await exchange([
      ask('contoso.example') + ask('fabrikam.example') + ask('nobody.invalid', true),
    ]);
    const statuses = [...result.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([200, 200, 404]);
    expect(result.text.indexOf('manage.microsoft.com')).toBeLessThan(result.text.indexOf('jamf'));
    expect(result.closed).toBe(true);
  });
});

describe('slow and idle clients', () => {
  it('a client that trickles its headers is cut off, while a well-behaved one is served', async () => {
    const request = `GET ${WELL_KNOWN} HTTP/1.1\r\nHost: contoso.example\r\nX-Slow: ${'s'.repeat(40)}\r\n\r\n`;
    const started = Date.now();
    // One byte every 250 ms: the whole request would take about 20 s.
    const slow = exchange([...request], 10_000, 250);
    const statuses = await servedThroughout(slow);
    const result = await slow;
    expect(result.closed).toBe(true);
    // HEADERS_TIMEOUT_MS is 1 s, checked every second: cut within about 2 s, not 20.
    expect(Date.now() - started).toBeLessThan(5000);
    expect([0, 408]).toContain(statusOf(result.text));
    expect(statuses.length).toBeGreaterThan(5);
    expect(statuses.every((s) => s === 200)).toBe(true);
  });

  it('thousands of idle connections neither stop service nor keep memory', async () => {
    const limit = Number(
      /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 1024,
    );
    // Both ends live in this process: two descriptors per connection.
    const count = Math.min(2000, Math.floor((limit - 256) / 2));
    const gc = (globalThis as { gc?: () => void }).gc;
    // vitest.config.ts starts test processes with --expose-gc; without it this would prove nothing.
    expect(gc).toBeTypeOf('function');
    const heap = () => {
      gc?.();
      return process.memoryUsage().heapUsed;
    };
    const before = heap();
    const sockets: Socket[] = [];
    let closedByServer = 0;
    let accepted = 0;
    const onConnection = () => {
      accepted++;
    };
    server.app.server.on('connection', onConnection);
    const open = () =>
      new Promise<number>((resolve, reject) =>
        server.app.server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
      );
    // In batches the kernel's accept queue (511) can hold, each accepted before the next.
    for (let batch = 0; batch < count; batch += 250) {
      const size = Math.min(250, count - batch);
      await Promise.all(
        Array.from(
          { length: size },
          () =>
            new Promise<void>((resolve) => {
              const socket = connect(port, '127.0.0.1', () => resolve());
              socket.on('error', () => resolve());
              socket.on('close', () => {
                closedByServer++;
              });
              sockets.push(socket);
            }),
        ),
      );
      while (accepted < batch + size) await new Promise((r) => setTimeout(r, 5));
    }
    server.app.server.off('connection', onConnection);
    const peak = await open();
    expect(peak).toBeGreaterThan(count / 2);
    expect(await wellBehaved()).toBe(200);
    // They send nothing: the server closes each once HEADERS_TIMEOUT_MS (1 s) has passed.
    const until = Date.now() + 8000;
    while (closedByServer < count && Date.now() < until) {
      expect(await wellBehaved()).toBe(200);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(closedByServer).toBe(count);
    for (const socket of sockets) socket.destroy();
    while ((await open()) > 0) await new Promise((r) => setTimeout(r, 50));
    sockets.length = 0;
    // Back to where it started, give or take what a few thousand requests' logs leave behind.
    expect(heap() - before).toBeLessThan(16 * 1024 * 1024);
    expect(await wellBehaved()).toBe(200);
  }, 30_000);
});
