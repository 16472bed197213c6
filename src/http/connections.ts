// The listener's connections: silent ones closed, and a shutdown that lets the clients' next
// requests in rather than cutting them.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** A connection with no request for this long counts as idle when draining. */
const QUIET_MS = 250;
/** The drain waits at most this long for busy connections before Node closes what is left. */
const LINGER_MS = 2000;

const lastRequest = Symbol('lastRequest');
const progress = Symbol('progress');
const progressAt = Symbol('progressAt');
type Tracked = Socket & { [lastRequest]?: number; [progress]?: number; [progressAt]?: number };

export interface Connections {
  /** True once drain() has begun: answers should then close their connection. */
  readonly draining: boolean;
  /**
   * A request is being answered, by either entrance: its connection is busy, not idle, and while
   * draining the answer closes it (Connection: close), so that the drain ends.
   */
  answering(request: IncomingMessage, response: ServerResponse): void;
  /**
   * Stops accepting connections, then closes each open one once it has been quiet for a moment;
   * busy ones end themselves, as every answer from now on carries Connection: close. Node's own
   * close would cut every connection idle at that instant, including those whose next request
   * is already on its way (with busy clients, nearly all of them: test/ops/tls-shutdown.test.ts,
   * npm run soak).
   */
  drain(): Promise<void>;
}

export function trackConnections(
  server: Server,
  options: {
    readonly headersTimeoutMs: number;
    /** A connection that neither reads nor writes a byte for this long is closed. */
    readonly idleTimeoutMs: number;
    readonly secure: boolean;
  },
): Connections {
  const open = new Set<Tracked>();
  let draining = false;
  // Node's socket timeout would do this too, but it re-arms its timer on every read and every
  // write; one look a second at each connection's byte counts costs nothing per request.
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const socket of open) {
        const bytes = socket.bytesRead + socket.bytesWritten;
        if (bytes !== socket[progress]) {
          socket[progress] = bytes;
          socket[progressAt] = now;
        } else if (now - (socket[progressAt] ?? now) >= options.idleTimeoutMs) socket.destroy();
      }
    },
    Math.min(1000, options.idleTimeoutMs),
  );
  sweep.unref();
  server.once('close', () => clearInterval(sweep));
  server.on(options.secure ? 'secureConnection' : 'connection', (socket: Tracked) => {
    // A client may not renegotiate TLS 1.2: each renegotiation costs the server a handshake, and
    // nothing here needs one (client certificates are not used).
    if (options.secure) (socket as Tracked & TLSSocket).disableRenegotiation();
    socket[lastRequest] = Date.now();
    socket[progress] = 0;
    socket[progressAt] = Date.now();
    open.add(socket);
    // Node closes a connection that starts a request and stalls (408), but with
    // connectionsCheckingInterval set it never times out one that sends nothing at all (Node 20
    // and 24; test/security/socket.test.ts). Such a connection is closed here once the headers
    // timeout has passed, so that idle sockets cannot pile up.
    const timer = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, options.headersTimeoutMs);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      open.delete(socket);
    });
  });
  return {
    get draining() {
      return draining;
    },
    answering(request, response) {
      (request.socket as Tracked)[lastRequest] = Date.now();
      if (draining) response.shouldKeepAlive = false;
    },
    async drain() {
      draining = true;
      // net's close, not http's: http's would first close every connection idle at this instant.
      if (server.listening) NetServer.prototype.close.call(server);
      const until = Date.now() + LINGER_MS;
      while (open.size > 0 && Date.now() < until) {
        const now = Date.now();
        for (const socket of open) {
          const busy = (socket as { _httpMessage?: unknown })._httpMessage != null;
          if (!busy && now - (socket[lastRequest] ?? 0) >= QUIET_MS) socket.destroy();
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
  };
}
