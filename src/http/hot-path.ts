// Discovery GET and HEAD answered in the server's request listener, before Fastify; Fastify keeps every other request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Decision, decide } from '../discovery/decide.js';
import type { RoutingTable } from '../discovery/table.js';
import type { RateLimiter } from '../ops/rate-limit.js';
import { WELL_KNOWN_PATH } from '../protocol.js';
import type { Connections } from './connections.js';

export interface HotPathOptions {
  /** Read once per request, so a reload that replaces `table` never mixes two configs in one answer. */
  readonly state: { readonly table: RoutingTable };
  readonly connections: Connections;
  readonly maxUrlLength: number;
  readonly limiter: RateLimiter | undefined;
  /** The client's address, as Fastify's `request.ip` (http/trust.ts). */
  readonly clientAddress: (request: IncomingMessage) => string | undefined;
  /** The host the request names, as Fastify's `request.host` (http/trust.ts). */
  readonly requestHost: (request: IncomingMessage) => string | undefined;
  /** Writes, counts and logs the decision, as the Fastify route does. */
  readonly respond: (
    response: ServerResponse,
    decision: Decision,
    method: string,
    startedAt: number,
  ) => void;
}

/** How many Host headers a request carries (Node's `headers.host` shows only the first). */
export function hostHeaders(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') count++;
  }
  return count;
}

/**
 * The request listener's first step: answers a plain discovery request (GET or HEAD of the
 * path, origin-form, no body, one Host, within the URL length and the rate limit, not while
 * draining) and returns true; returns false, having written nothing, for everything else, which
 * Fastify then answers as before (the 414, 413, 429, 400 and 404 refusals, absolute-form targets,
 * other paths). Fastify's router, request and reply objects and hooks cost about a fifth of a
 * request (docs/PERFORMANCE.md). A request the limit refuses is declined here and refused by
 * Fastify's hook, which asks the limiter again: a refusal does not count, so it is refused the
 * same. The answers are the same bytes: the HTTP tests run through this listener (app.inject
 * included: http/app.ts).
 */
export function hotPath(
  options: HotPathOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { state, connections, maxUrlLength, limiter, clientAddress, requestHost, respond } =
    options;
  const pathLength = WELL_KNOWN_PATH.length;
  return (req, res) => {
    const startedAt = performance.now();
    const { method, url } = req;
    if (method !== 'GET' && method !== 'HEAD') return false;
    if (url === undefined || url.length > maxUrlLength || !url.startsWith(WELL_KNOWN_PATH)) {
      return false;
    }
    if (url.length !== pathLength && url.charCodeAt(pathLength) !== 63 /* ? */) return false;
    if (connections.draining) return false;
    const headers = req.headers;
    if (headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined) {
      return false;
    }
    if (hostHeaders(req.rawHeaders) > 1) return false;
    if (limiter !== undefined) {
      const client = clientAddress(req);
      if (client === undefined || limiter.hit(client) > 0) return false;
    }
    connections.touch(req.socket);
    const search = url.length === pathLength ? '' : url.slice(pathLength + 1);
    let decision: Decision;
    try {
      decision = decide(state.table, { host: requestHost(req), search });
    } catch {
      // A bug: Fastify decides again, and its error handler logs it and answers 500.
      return false;
    }
    respond(res, decision, method, startedAt);
    return true;
  };
}
