import { connect } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WELL_KNOWN_PATH as WELL_KNOWN } from '../../src/protocol.js';
import { type CapturedServer, startCaptured } from '../helpers/server.js';

const DEMO_BODY =
  '{"Servers":[{"Version":"mdm-byod","BaseURL":"https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a"}]}';

let server: CapturedServer;
const agent = new Agent({ keepAliveTimeout: 1000 });

beforeAll(async () => {
  server = await startCaptured(); // the embedded demo config, as `npm start` serves it
});
afterAll(async () => {
  await agent.close();
  await server.close();
});

const ask = (path: string, host: string, method: 'GET' | 'HEAD' | 'POST' = 'GET') =>
  request(`${server.url}${path}`, { method, headers: { host }, dispatcher: agent });

describe('a real listening server (undici)', () => {
  it("serves the README's curl check from the embedded demo config, byte for byte", async () => {
    const res = await ask(
      `${WELL_KNOWN}?user-identifier=joe@contoso.example&model-family=iPhone`,
      'contoso.example',
    );
    expect(res.statusCode).toBe(200);
    expect(Buffer.from(await res.body.arrayBuffer()).equals(Buffer.from(DEMO_BODY))).toBe(true);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['content-length']).toBe(String(DEMO_BODY.length));
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers.server).toBeUndefined();
  });

  it('answers HEAD with the GET headers (Content-Length included) and no body', async () => {
    const get = await ask(WELL_KNOWN, 'contoso.example');
    await get.body.text();
    const head = await ask(WELL_KNOWN, 'contoso.example', 'HEAD');
    expect(head.statusCode).toBe(200);
    expect(await head.body.text()).toBe('');
    // undici asks to close the connection after a HEAD, so connection headers differ by design.
    const answer = ({ date: _d, connection: _c, 'keep-alive': _k, ...rest }: typeof get.headers) =>
      rest;
    expect(answer(head.headers)).toEqual(answer(get.headers));
    expect(head.headers['content-length']).toBe(String(DEMO_BODY.length));
  });

  it('answers 405 with Allow, 404 for an unknown host, on a kept-alive connection', async () => {
    const post = await ask(WELL_KNOWN, 'contoso.example', 'POST');
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    await post.body.text();
    const unknown = await ask(WELL_KNOWN, 'unknown.example');
    expect(unknown.statusCode).toBe(404);
    expect(await unknown.body.text()).toBe('{"code":"not_found","message":"Not Found"}');
  });

  it("refuses a request line over Node's 16 KiB header limit with 431, and keeps serving", async () => {
    const status = await rawStatus(
      `GET ${WELL_KNOWN}?pad=${'x'.repeat(17_000)} HTTP/1.1\r\nHost: contoso.example\r\n\r\n`,
    );
    expect(status).toBe(431);
    const res = await ask(WELL_KNOWN, 'contoso.example');
    expect(res.statusCode).toBe(200);
    await res.body.text();
  });

  it('refuses a request without a Host header with 400', async () => {
    expect(await rawStatus(`GET ${WELL_KNOWN} HTTP/1.1\r\n\r\n`)).toBe(400);
  });

  it('answers /healthz and /readyz', async () => {
    for (const [path, body] of [
      ['/healthz', '{"status":"ok"}'],
      ['/readyz', '{"status":"ready"}'],
    ]) {
      const res = await request(`${server.url}${path}`, { dispatcher: agent });
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe(body);
    }
  });
});

/** Sends raw bytes and returns the status code of the first response line. */
function rawStatus(payload: string): Promise<number> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(payload));
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (match) {
        socket.destroy();
        resolve(Number(match[1]));
      }
    });
    socket.on('error', reject);
    socket.setTimeout(5000, () => reject(new Error('no answer')));
  });
}
