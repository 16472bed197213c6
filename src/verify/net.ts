// Reaching the target: an undici dispatcher that honours --resolve and --ca, and a TLS probe.
import { lookup } from 'node:dns/promises';
import { connect, rootCertificates, type TLSSocket } from 'node:tls';
import { Agent, buildConnector } from 'undici';

/** `--resolve host:port:address` (like curl); `*` as host matches any host on that port. */
export interface Resolve {
  readonly host: string;
  readonly port: number;
  readonly address: string;
}

export function parseResolve(text: string): Resolve | undefined {
  const match = /^([^:]+):(\d{1,5}):(.+)$/.exec(text);
  if (!match) return undefined;
  const address = (match[3] ?? '').replace(/^\[(.*)\]$/, '$1');
  return { host: (match[1] ?? '').toLowerCase(), port: Number(match[2]), address };
}

export interface NetOptions {
  readonly resolve: readonly Resolve[];
  /** Extra trusted CA certificates (PEM), on top of the system's. */
  readonly ca?: string | undefined;
  readonly timeoutMs: number;
}

export function resolvedAddress(
  options: NetOptions,
  host: string,
  port: number,
): string | undefined {
  const h = host.toLowerCase();
  return options.resolve.find((r) => (r.host === h || r.host === '*') && r.port === port)?.address;
}

function trusted(options: NetOptions): string[] | undefined {
  return options.ca === undefined ? undefined : [...rootCertificates, options.ca];
}

/**
 * An undici dispatcher for verify: connects to the --resolve address while keeping the real host
 * name for SNI and certificate checks. `insecure` is only for reading answers after the TLS check
 * has already reported a certificate failure.
 */
export function dispatcher(options: NetOptions, insecure: boolean): Agent {
  const connector = buildConnector({
    ca: trusted(options),
    rejectUnauthorized: !insecure,
    timeout: options.timeoutMs,
  });
  return new Agent({
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: (opts, callback) => {
      const port = Number(opts.port) || (opts.protocol === 'http:' ? 80 : 443);
      const address = resolvedAddress(options, opts.hostname, port);
      connector(
        { ...opts, hostname: address ?? opts.hostname, servername: opts.hostname },
        callback,
      );
    },
  });
}

export interface DnsResult {
  readonly addresses: readonly string[];
  readonly via: 'dns' | '--resolve';
  readonly error?: string;
}

export async function resolveHost(
  options: NetOptions,
  host: string,
  port: number,
): Promise<DnsResult> {
  const forced = resolvedAddress(options, host, port);
  if (forced !== undefined) return { addresses: [forced], via: '--resolve' };
  try {
    const found = await lookup(host, { all: true });
    return { addresses: found.map((a) => a.address), via: 'dns' };
  } catch (error) {
    return {
      addresses: [],
      via: 'dns',
      error: (error as NodeJS.ErrnoException).code ?? String(error),
    };
  }
}

export interface TlsResult {
  readonly protocol?: string | undefined;
  readonly cipher?: string | undefined;
  /** undefined when the chain is trusted and valid for the host. */
  readonly authorizationError?: string | undefined;
  readonly validTo?: Date | undefined;
  readonly names?: string | undefined;
  /** The handshake failed outright (connection refused, protocol mismatch, timeout). */
  readonly error?: string | undefined;
  /** For a failed handshake: what a permissive client could agree on, to say why. */
  readonly legacyProtocol?: string | undefined;
}

export async function probeTls(
  options: NetOptions,
  host: string,
  port: number,
  address: string,
): Promise<TlsResult> {
  const first = await handshake(options, host, port, address, false);
  if (first.error === undefined) return first;
  // Refused at the protocol level: find out whether the server speaks only an old TLS version.
  const legacy = await handshake(options, host, port, address, true);
  return { ...first, legacyProtocol: legacy.error === undefined ? legacy.protocol : undefined };
}

function handshake(
  options: NetOptions,
  host: string,
  port: number,
  address: string,
  legacy: boolean,
): Promise<TlsResult> {
  return new Promise((resolve) => {
    const socket: TLSSocket = connect({
      host: address,
      port,
      servername: host,
      ca: trusted(options),
      rejectUnauthorized: false,
      timeout: options.timeoutMs,
      ...(legacy ? { minVersion: 'TLSv1' as const, ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
    });
    const done = (result: TlsResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      done({
        protocol: socket.getProtocol() ?? undefined,
        cipher: socket.getCipher()?.standardName ?? socket.getCipher()?.name,
        authorizationError: socket.authorized ? undefined : String(socket.authorizationError),
        validTo: cert.valid_to ? new Date(cert.valid_to) : undefined,
        names: cert.subjectaltname,
      });
    });
    socket.once('timeout', () => done({ error: 'timed out' }));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done({ error: error.code ?? error.message }),
    );
  });
}
