// Discovery GET and HEAD answered in the server's request listener, before Fastify; Fastify keeps every other request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Decision, decide } from '../discovery/decide.js';
import type { RoutingTable } from '../discovery/table.js';
import { WELL_KNOWN_PATH } from '../protocol.js';
import type { Admission } from './admission.js';
import type { Connections } from './connections.js';

export interface HotPathOptions {
  /** Read once per request, so a reload that replaces `table` never mixes two configs in one answer. */
  readonly state: { readonly table: RoutingTable };
  readonly connections: Connections;
  /** The refusals both entrances make (http/admission.ts). */
  readonly admission: Admission;
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

/**
 * The request listener's first step: answers a discovery request (GET or HEAD of the exact path,
 * origin-form) that admission lets through, and returns true; returns false, having written
 * nothing, for everything else, which Fastify then answers (a refusal admission made, read back
 * without counting the request again; absolute-form targets, escaped spellings of the path,
 * other paths and methods). Skipping Fastify's router, request and reply objects and hooks
 * measured ×1.14 with the other changes of its commit (`npm run bench:ab`: docs/PERFORMANCE.md).
 * Admission is one function for both entrances, and a property test compares the listener's
 * answers with Fastify's alone (test/http/entrances.test.ts).
 */
export function hotPath(
  options: HotPathOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { state, connections, admission, requestHost, respond } = options;
  const pathLength = WELL_KNOWN_PATH.length;
  return (req, res) => {
    const startedAt = performance.now();
    const { method, url } = req;
    if (method !== 'GET' && method !== 'HEAD') return false;
    if (url === undefined || !url.startsWith(WELL_KNOWN_PATH)) return false;
    if (url.length !== pathLength && url.charCodeAt(pathLength) !== 63 /* ? */) return false;
    if (admission.check(req) !== undefined) return false;
    connections.answering(req, res);
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
