// Prepared status line and headers handed to Node as they are: the one place that sets fields of Node's ServerResponse.
import { once } from 'node:events';
import { createServer, type ServerResponse, STATUS_CODES } from 'node:http';
import { connect } from 'node:net';
import { type PreparedResponse, preparedResponse } from '../discovery/response.js';

/** Writes a prepared answer to a response of the hot path. */
export type AnswerWriter = (res: ServerResponse, response: PreparedResponse) => void;

/**
 * The public way: Node builds and checks the status line and headers on every answer
 * (`writeHead`), then sends them with the body in one write.
 */
export const publicWrite: AnswerWriter = (res, response) => {
  res.writeHead(response.status, response.rawHeaders as string[]);
  res.end(response.body);
};

/** The fields of Node's ServerResponse that `writeHead` reads and sets (node/lib/_http_outgoing.js). */
interface NodeResponse {
  _header: string | null;
  _headerSent: boolean;
  _contentLength: number | null;
  _keepAliveTimeout: number;
  _defaultKeepAlive: boolean;
  _removedConnection: boolean;
  _maxRequestsPerSocket: number | undefined;
  _expect_continue: boolean;
  maxRequestsOnConnectionReached: boolean;
  shouldKeepAlive: boolean;
  sendDate: boolean;
  statusCode: number;
  statusMessage: string;
}

/** The status line and headers of a prepared answer as Node writes them, up to the Date header. */
const heads = new WeakMap<PreparedResponse, string>();
function headOf(response: PreparedResponse): string {
  let head = heads.get(response);
  if (head === undefined) {
    head = `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? 'unknown'}\r\n`;
    for (let i = 0; i < response.rawHeaders.length; i += 2) {
      head += `${response.rawHeaders[i]}: ${response.rawHeaders[i + 1]}\r\n`;
    }
    heads.set(response, head);
  }
  return head;
}

/**
 * The prepared way, for a kept-alive HTTP/1.1 connection in the common case (anything else is
 * written the public way): the status line and headers come from a string made once per answer,
 * with the Date line Node would write (refreshed once a second) and the Connection and Keep-Alive
 * lines `writeHead` adds for exactly these conditions; Node then sends them with the body in one
 * write and runs the rest of the response's life as usual. What `writeHead` would have set on the
 * response (status, the header string, the content length) is set here. Against `publicWrite`
 * this measured ×1.14 and ×1.09 in two interleaved A/B runs of 15 rounds (`npm run bench:ab`:
 * docs/PERFORMANCE.md); these headers are checked once, at start, by `checkPreparedWrites`.
 */
function preparedWrite(keepAliveTimeoutMs: number): AnswerWriter {
  const tail =
    keepAliveTimeoutMs > 0
      ? `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(keepAliveTimeoutMs / 1000)}\r\n\r\n`
      : 'Connection: keep-alive\r\n\r\n';
  let date = '';
  let nextSecond = 0;
  return (res, response) => {
    const node = res as unknown as NodeResponse;
    if (
      node._header !== null ||
      !node.shouldKeepAlive ||
      node.maxRequestsOnConnectionReached ||
      node._removedConnection ||
      node._expect_continue ||
      !node.sendDate ||
      !node._defaultKeepAlive ||
      node._keepAliveTimeout !== keepAliveTimeoutMs ||
      (node._maxRequestsPerSocket ?? 0) > 0 ||
      res.headersSent ||
      response.status < 200 ||
      response.status === 204 ||
      response.status === 304
    ) {
      publicWrite(res, response);
      return;
    }
    const now = Date.now();
    if (now >= nextSecond) {
      date = `Date: ${new Date(now).toUTCString()}\r\n`;
      nextSecond = now - (now % 1000) + 1000;
    }
    node.statusCode = response.status;
    node.statusMessage = STATUS_CODES[response.status] ?? 'unknown';
    node._header = headOf(response) + date + tail;
    node._headerSent = false;
    node._contentLength = response.bytes.length;
    res.end(response.body);
  };
}

/** Whether prepared writes are used, and why not when they are not. */
export type PreparedWrites =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string };

/**
 * Checks that this Node writes a prepared answer exactly as `writeHead` does: a loopback server
 * answers a GET, a HEAD and a GET again on one connection, once each way, and the bytes on the
 * wire must be identical (Date lines aside) and the connection still usable. Any difference,
 * error or a Node that lacks the fields means the public way. Run by server.ts before it builds
 * the app (buildApp does no I/O), once per start.
 */
export function checkPreparedWrites(keepAliveTimeoutMs: number): Promise<PreparedWrites> {
  return compareWrites(keepAliveTimeoutMs, preparedWrite(keepAliveTimeoutMs));
}

/** The check itself, for `candidate`: exported for the tests that make it fail. */
export async function compareWrites(
  keepAliveTimeoutMs: number,
  candidate: AnswerWriter,
): Promise<PreparedWrites> {
  try {
    return await compareExchanges(keepAliveTimeoutMs, candidate);
  } catch (error) {
    return { ok: false, reason: `the check failed: ${(error as Error).message}` };
  }
}

async function compareExchanges(
  keepAliveTimeoutMs: number,
  candidate: AnswerWriter,
): Promise<PreparedWrites> {
  const body = '{"é":"ok"}';
  const sample = preparedResponse(
    200,
    {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'no-store',
    },
    body,
  );
  const exchange = async (write: AnswerWriter): Promise<string> => {
    const server = createServer({ keepAliveTimeout: keepAliveTimeoutMs }, (_req, res) =>
      write(res, sample),
    );
    server.keepAliveTimeout = keepAliveTimeoutMs;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as { port: number };
      const socket = connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      const request = (method: string) => `${method} / HTTP/1.1\r\nHost: check\r\n\r\n`;
      socket.write(request('GET') + request('HEAD') + request('GET'));
      const bytes = () => Buffer.concat(chunks).toString('latin1');
      const until = Date.now() + 2000;
      while ((bytes().match(/HTTP\/1\.1/g)?.length ?? 0) < 3 || !bytes().endsWith('"ok"}')) {
        if (Date.now() > until) throw new Error('no third answer on the connection');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      socket.destroy();
      return bytes().replace(/\r\nDate: [^\r]*\r\n/g, '\r\nDate: -\r\n');
    } finally {
      server.close();
    }
  };
  const expected = await exchange(publicWrite);
  const actual = await exchange(candidate);
  if (actual !== expected) {
    return { ok: false, reason: 'this Node writes the headers differently' };
  }
  return { ok: true };
}

/** The writer the hot path uses: prepared when the check passed, the public one otherwise. */
export function answerWriter(check: PreparedWrites, keepAliveTimeoutMs: number): AnswerWriter {
  return check.ok ? preparedWrite(keepAliveTimeoutMs) : publicWrite;
}
