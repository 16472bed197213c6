// Reaching the target: an undici dispatcher that honours --resolve and --ca, and a TLS probe.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import {
  type ConnectionOptions,
  connect,
  type DetailedPeerCertificate,
  rootCertificates,
  type TLSSocket,
} from 'node:tls';
import { Agent, buildConnector } from 'undici';
import { APPLE_TLS12_CIPHERS } from '../protocol.js';
import { type ChainCert, chainOf } from './chain.js';
import { derElement } from './der.js';
import type { Client } from './fetch.js';

/** `--resolve host:port:address` (like curl); `*` as host matches any host on that port. */
export interface Resolve {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  /** A fourth part, `HOST:PORT:ADDRESS:PORT2`, connects to PORT2 instead (curl's --connect-to). */
  readonly connectPort?: number;
}

export function parseResolve(text: string): Resolve | undefined {
  const match = /^([^:]+):(\d{1,5}):(\[[^\]]+\]|[^:]+|[0-9a-f:]+)(?::(\d{1,5}))?$/i.exec(text);
  if (!match) return undefined;
  // A bare IPv6 address cannot be followed by a port: `[::1]:8443`.
  const bare = match[4] !== undefined && !match[3]?.startsWith('[') && match[3]?.includes(':');
  const address = (bare ? `${match[3]}:${match[4]}` : (match[3] ?? '')).replace(/^\[(.*)\]$/, '$1');
  return {
    host: (match[1] ?? '').toLowerCase(),
    port: Number(match[2]),
    address,
    ...(match[4] !== undefined && !bare ? { connectPort: Number(match[4]) } : {}),
  };
}

export interface NetOptions {
  readonly resolve: readonly Resolve[];
  /** Extra trusted CA certificates (PEM), on top of the system's. */
  readonly ca?: string | undefined;
  readonly timeoutMs: number;
  /**
   * Let redirects and the BaseURL probe reach loopback, private, link-local and metadata
   * addresses. Off by default: the server being checked must not be able to point verify at
   * the machine it runs on or its network. A --resolve entry allows its own host.
   */
  readonly allowPrivate?: boolean;
  /** How host names become addresses; DNS (getaddrinfo) when absent. */
  readonly lookup?: (host: string) => Promise<string[]>;
}

function lookupAll(host: string): Promise<string[]> {
  return lookup(host, { all: true }).then((found) => found.map((a) => a.address));
}

/** The --resolve entries for host:port: those for the host itself first, then `*` ones. */
export function resolveEntries(options: NetOptions, host: string, port: number): Resolve[] {
  const h = host.toLowerCase();
  const forPort = options.resolve.filter((r) => r.port === port);
  return [...forPort.filter((r) => r.host === h), ...forPort.filter((r) => r.host === '*')];
}

/** The --resolve entry that decides where host:port connects, if any. */
export function resolved(options: NetOptions, host: string, port: number): Resolve | undefined {
  return resolveEntries(options, host, port)[0];
}

function trusted(options: NetOptions): string[] | undefined {
  return options.ca === undefined ? undefined : [...rootCertificates, options.ca];
}

/** Addresses a check run from inside a network must not be steered to. */
const PRIVATE = new BlockList();
for (const [network, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3], // multicast and reserved
] as const) {
  PRIVATE.addSubnet(network, bits, 'ipv4');
}
for (const [network, bits] of [
  ['::', 127], // unspecified and loopback
  ['fc00::', 7], // unique local, AWS metadata (fd00:ec2::254)
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(network, bits, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined) return PRIVATE.check(mapped, 'ipv4');
  const family = isIP(address);
  return family === 0 || PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The one way to make a client for verify's exchanges (verify/fetch.ts): the dispatcher for
 * `target` (see below), each exchange within --timeout, and all of them within `deadline` (a
 * time in milliseconds from now, or a signal of the caller's).
 */
/**
 * The loopback, private, link-local or metadata address a host other than the checked one may not
 * be contacted at (redirect targets, BaseURLs and their TLS), unless --allow-private; `exempt` for
 * the checked host itself and for a host a --resolve entry places.
 */
export function blockedAddress(
  options: NetOptions,
  addresses: readonly string[],
  exempt: boolean,
): string | undefined {
  return options.allowPrivate || exempt ? undefined : addresses.find(isPrivateAddress);
}

export function createClient(
  options: NetOptions,
  target: string,
  deadline: number | AbortSignal,
  insecure = false,
): Client {
  return {
    agent: dispatcher(options, insecure, target),
    timeoutMs: options.timeoutMs,
    deadline: typeof deadline === 'number' ? AbortSignal.timeout(deadline) : deadline,
  };
}

/** Thrown when a redirect or a BaseURL leads to a private address. */
export class PrivateAddressError extends Error {
  readonly code = 'MDM_PRIVATE_ADDRESS';
}

/**
 * An undici dispatcher for verify: connects to the --resolve address while keeping the real host
 * name for SNI and certificate checks. `insecure` is only for reading answers after the TLS check
 * has already reported a certificate failure. Any host but `target` (redirect targets, BaseURLs)
 * is looked up here and refused when an address is private, unless --allow-private or a
 * --resolve entry says otherwise; the connection goes to the address that was checked, so a
 * second DNS answer cannot swap it.
 */
export function dispatcher(options: NetOptions, insecure: boolean, target: string): Agent {
  const connector = buildConnector({
    ca: trusted(options),
    rejectUnauthorized: !insecure,
    timeout: options.timeoutMs,
  });
  const connectTo = (
    opts: buildConnector.Options,
    address: string,
    callback: buildConnector.Callback,
    port?: number,
  ) =>
    connector(
      {
        ...opts,
        hostname: address,
        ...(port === undefined ? {} : { port: String(port) }),
        ...(isIP(opts.hostname) === 0 ? { servername: opts.hostname } : {}),
      },
      callback,
    );
  return new Agent({
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: (opts, callback) => {
      const port = Number(opts.port) || (opts.protocol === 'http:' ? 80 : 443);
      const host = opts.hostname.replace(/^\[(.*)\]$/, '$1');
      const forced = resolved(options, host, port);
      if (forced !== undefined) {
        return connectTo(opts, forced.address, callback, forced.connectPort);
      }
      const exempt = host.toLowerCase() === target.toLowerCase();
      const addresses =
        isIP(host) !== 0 ? Promise.resolve([host]) : (options.lookup ?? lookupAll)(host);
      addresses.then(
        (found) => {
          const blocked = blockedAddress(options, found, exempt);
          const first = found[0];
          if (blocked !== undefined) {
            callback(
              new PrivateAddressError(
                `${host} is at ${blocked}, a loopback, private or link-local address: not followed (pass --allow-private to allow it)`,
              ),
              null,
            );
          } else if (first === undefined) {
            callback(
              Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' }),
              null,
            );
          } else connectTo(opts, first, callback);
        },
        (error: Error) => callback(error, null),
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
  const forced = resolveEntries(options, host, port);
  if (forced.length > 0) return { addresses: forced.map((r) => r.address), via: '--resolve' };
  try {
    return { addresses: await (options.lookup ?? lookupAll)(host), via: 'dns' };
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
  readonly validFrom?: Date | undefined;
  readonly names?: string | undefined;
  /** The handshake failed outright (connection refused, protocol mismatch, timeout). */
  readonly error?: string | undefined;
  /** For a failed handshake: what a permissive client could agree on, to say why. */
  readonly legacyProtocol?: string | undefined;
  /** Over TLS 1.2: whether the Extended Master Secret was used. */
  readonly ems?: boolean;
  /** The certificates the server sent, leaf first, as Node chains them (verify/chain.ts). */
  readonly chain?: readonly ChainCert[];
  /** TLS 1.2 asked with Apple's suites only, and with every other suite. */
  readonly tls12?: { readonly apple: TlsResult; readonly other: TlsResult };
}

export async function probeTls(
  options: NetOptions,
  host: string,
  port: number,
  address: string,
): Promise<TlsResult> {
  // A --resolve entry with a fourth part sends the connection to another port.
  const to =
    resolveEntries(options, host, port).find((r) => r.address === address)?.connectPort ?? port;
  // Only the first handshake's chain is judged: the others read the same certificates.
  const first = await handshake(options, host, to, address, {}, true);
  if (first.error !== undefined) {
    // Refused at the protocol level: find out whether the server speaks only an old TLS version.
    const legacy = await handshake(options, host, to, address, {
      minVersion: 'TLSv1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    return { ...first, legacyProtocol: legacy.error === undefined ? legacy.protocol : undefined };
  }
  // TLS 1.2 as a device limited to Apple's suites would ask, and with every other suite.
  const tls12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;
  const apple = await handshake(options, host, to, address, {
    ...tls12,
    ciphers: APPLE_TLS12_CIPHERS.join(':'),
  });
  const other = await handshake(options, host, to, address, {
    ...tls12,
    ciphers: `ALL:${APPLE_TLS12_CIPHERS.map((c) => `!${c}`).join(':')}:@SECLEVEL=0`,
  });
  return { ...first, tls12: { apple, other } };
}

/**
 * Whether a TLS 1.2 session used the Extended Master Secret (RFC 7627). Node does not say, but
 * the session it returns holds OpenSSL's DER encoding, whose `flags` field ([13]) has bit 0 set
 * for it (ssl/ssl_asn1.c, SSL_SESS_FLAG_EXTMS).
 */
export function sessionHasEms(session: Buffer): boolean {
  const element = (at: number) => derElement(session, at);

  // Node 24 puts a header of its own (`\0nodejs:tls:session:1`, the host name) before the DER:
  // the session is the SEQUENCE that runs to the end of the buffer.
  let begin = 0;
  while (
    begin < session.length &&
    !(session[begin] === 0x30 && element(begin).end === session.length)
  ) {
    begin = session.indexOf(0x30, begin + 1);
    if (begin === -1) return false;
  }
  const sequence = element(begin);
  for (let at = sequence.start; at < sequence.end && at < session.length; ) {
    const field = element(at);
    if (field.tag === 0xad) {
      const value = element(field.start);
      let flags = 0;
      for (let i = value.start; i < value.end; i++) flags = flags * 256 + (session[i] ?? 0);
      return (flags & 1) === 1;
    }
    at = field.end;
  }
  return false;
}

function handshake(
  options: NetOptions,
  host: string,
  port: number,
  address: string,
  versions: Pick<ConnectionOptions, 'minVersion' | 'maxVersion' | 'ciphers'>,
  withChain = false,
): Promise<TlsResult> {
  return new Promise((resolve) => {
    const socket: TLSSocket = connect({
      host: address,
      port,
      servername: host,
      ca: trusted(options),
      rejectUnauthorized: false,
      timeout: options.timeoutMs,
      ...versions,
    });
    // `timeout` above is for a silent socket; this one also ends a handshake that drips.
    const timer = setTimeout(() => done({ error: 'timed out' }), options.timeoutMs);
    const done = (result: TlsResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate(withChain);
      done({
        ...(withChain ? { chain: chainOf(cert as DetailedPeerCertificate) } : {}),
        protocol: socket.getProtocol() ?? undefined,
        cipher: socket.getCipher()?.standardName ?? socket.getCipher()?.name,
        authorizationError: socket.authorized ? undefined : String(socket.authorizationError),
        validTo: cert.valid_to ? new Date(cert.valid_to) : undefined,
        validFrom: cert.valid_from ? new Date(cert.valid_from) : undefined,
        names: cert.subjectaltname,
        ...(socket.getProtocol() === 'TLSv1.2'
          ? { ems: sessionHasEms(socket.getSession() ?? Buffer.alloc(0)) }
          : {}),
      });
    });
    socket.once('timeout', () => done({ error: 'timed out' }));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done({ error: error.code ?? error.message }),
    );
  });
}
