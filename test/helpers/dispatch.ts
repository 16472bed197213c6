// Requests through the app's real request listener (the hot path, then Fastify), without a socket.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import injectRequest, { type InjectOptions, type Response } from 'light-my-request';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** The listener the server answers with: the hot path first, then Fastify (http/app.ts). */
export function serverListener(app: FastifyInstance): Listener {
  const [listener] = app.server.listeners('request') as Listener[];
  if (listener === undefined) throw new Error('the app has no request listener');
  return listener;
}

/**
 * Sends a request as a client's would be answered: through the server's request listener.
 * (`app.inject` is Fastify's own: its handler alone, without the hot path in front.)
 */
export async function inject(app: FastifyInstance, options: InjectOptions): Promise<Response> {
  await app.ready();
  return injectRequest(serverListener(app), options);
}

/** The same request answered by Fastify alone: its router and hooks, no hot path. */
export async function injectFastify(
  app: FastifyInstance,
  options: InjectOptions,
): Promise<Response> {
  await app.ready();
  return injectRequest((req, res) => app.routing(req, res), options);
}
