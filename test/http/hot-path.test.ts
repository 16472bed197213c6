import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { trackConnections } from '../../src/http/connections.js';
import { testApp, WELL_KNOWN } from '../helpers/app.js';
import { inject } from '../helpers/dispatch.js';

describe('the hot path (http/hot-path.ts)', () => {
  it('answers plain discovery requests itself and leaves every other request to Fastify', async () => {
    const app = await testApp();
    // Fastify's handler, which the listener calls for every request the hot path declines.
    const routing = vi.spyOn(app, 'routing');
    const send = (
      method: string,
      url: string,
      headers: Record<string, string> = {},
      payload?: string,
    ) =>
      inject(app, {
        method: method as 'GET',
        url,
        headers: { host: 'contoso.example', ...headers },
        ...(payload === undefined ? {} : { payload }),
      });
    expect((await send('GET', `${WELL_KNOWN}?user-identifier=a@contoso.example`)).statusCode).toBe(
      200,
    );
    expect((await send('HEAD', WELL_KNOWN)).statusCode).toBe(200);
    expect((await send('GET', WELL_KNOWN, { host: 'unknown.example' })).statusCode).toBe(404);
    // No body is no body: admission (http/admission.ts) lets `Content-Length: 0` through.
    expect((await send('GET', WELL_KNOWN, { 'content-length': '0' })).statusCode).toBe(200);
    expect(routing).not.toHaveBeenCalled();
    const declined = [
      await send('POST', WELL_KNOWN),
      await send('GET', `${WELL_KNOWN}/`),
      await send('GET', `${WELL_KNOWN}x?user-identifier=a@contoso.example`),
      await send('GET', WELL_KNOWN, { 'content-length': '5' }, 'hello'),
      await send('GET', '/healthz'),
    ];
    expect(declined.map((res) => res.statusCode)).toEqual([405, 404, 404, 413, 200]);
    expect(routing).toHaveBeenCalledTimes(declined.length);
  });
});

describe('idle connections (http/connections.ts)', () => {
  it('closes a connection that moves no byte for the idle time, and only that one', () => {
    vi.useFakeTimers();
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const server = new EventEmitter() as unknown as Server;
    trackConnections(server, { headersTimeoutMs: 10_000, idleTimeoutMs: 3000, secure: false });
    const socket = () => {
      const emitter = new EventEmitter();
      return Object.assign(emitter, {
        bytesRead: 1,
        bytesWritten: 0,
        destroy: vi.fn(() => emitter.emit('close')),
      });
    };
    const [still, busy] = [socket(), socket()];
    server.emit('connection', still);
    server.emit('connection', busy);
    for (let second = 0; second < 5; second++) {
      busy.bytesWritten += 100;
      vi.advanceTimersByTime(1000);
    }
    expect(still.destroy).toHaveBeenCalledTimes(1);
    expect(busy.destroy).not.toHaveBeenCalled();
    server.emit('close');
  });
});
