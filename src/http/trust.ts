// Whose X-Forwarded-* headers to believe, as the function Fastify's trustProxy takes.
import proxyAddr from '@fastify/proxy-addr';
import { remember } from '../remember.js';

export type TrustProxy = boolean | number | readonly string[];

/** Whom to believe, as trustFunction makes it: Fastify's, the client address's and the host's. */
export type Trust = boolean | ((address: string, hop: number) => boolean);

/** Trust decisions remembered per address; the cache is emptied when it reaches this size. */
const REMEMBERED = 1024;

/**
 * false: believe no one. A number n: the first n hops, counted from this service, are proxies
 * (proxy-addr's and Express's meaning; Fastify 5.12 alone would trust nothing for a number).
 * Addresses and CIDRs: Fastify's own matcher (@fastify/proxy-addr), its answer remembered per
 * address, so that the proxy's address is not parsed again on every request.
 */
export function trustFunction(trust: TrustProxy): Trust {
  if (typeof trust === 'boolean') return trust;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  const matches = proxyAddr.compile([...trust]);
  const remembered = new Map<string, boolean>();
  return (address, hop) => remember(remembered, address, () => matches(address, hop), REMEMBERED);
}

/** The header values a request's client address and host are read from. */
export interface ForwardedRequest {
  readonly headers: { readonly [name: string]: string | string[] | undefined };
  readonly socket: { readonly remoteAddress?: string | undefined };
}

/**
 * The client's address as Fastify's `request.ip` works it out (@fastify/proxy-addr's `all`, last
 * entry), walked from the right of X-Forwarded-For without building the list: from the peer,
 * each hop that the trust setting believes hands over to the entry on its left; the first one it
 * does not believe, or the leftmost entry, is the client. As @fastify/forwarded reads the header:
 * entries lose the spaces and tabs at their ends, empty ones are skipped, and a header without a
 * comma is trimmed as a whole. test/http/trust.test.ts checks the two agree on generated headers.
 */
export function clientAddressOf(
  believes: Trust,
): (request: ForwardedRequest) => string | undefined {
  if (believes === false) return (request) => request.socket.remoteAddress;
  const trusted = believes === true ? () => true : believes;
  // biome-ignore lint/complexity/noExcessiveCognitiveComplexity: an X-Forwarded-For tokenizer on the hot path, held to proxy-addr by a property test
  return (request) => {
    const peer = request.socket.remoteAddress;
    const header = request.headers['x-forwarded-for'];
    if (typeof header !== 'string' || header === '' || peer === undefined) return peer;
    if (header.indexOf(',') === -1) {
      const only = header.trim();
      return only !== '' && trusted(peer, 0) ? only : peer;
    }
    let current = peer;
    let hop = 0;
    let end = header.length;
    for (;;) {
      // The next entry to the left of `end`: its last character, then back to a comma.
      let last = end - 1;
      while (last >= 0 && isBlankOrComma(header.charCodeAt(last))) last--;
      if (last < 0) return current;
      let first = last;
      while (first > 0 && header.charCodeAt(first - 1) !== 44 /* , */) first--;
      while (isBlank(header.charCodeAt(first))) first++;
      if (!trusted(current, hop)) return current;
      current = header.slice(first, last + 1);
      hop++;
      end = first;
    }
  };
}

const isBlank = (code: number) => code === 32 || code === 9;
const isBlankOrComma = (code: number) => code === 32 || code === 9 || code === 44;

/**
 * The host a request names, as Fastify's `request.host` reads it: the last X-Forwarded-Host entry
 * when the peer is a trusted proxy (hop 0), else the Host header.
 */
export function requestHostOf(believes: Trust): (request: ForwardedRequest) => string | undefined {
  return (request) => {
    const forwarded = request.headers['x-forwarded-host'];
    if (
      believes !== false &&
      typeof forwarded === 'string' &&
      forwarded !== '' &&
      request.socket.remoteAddress !== undefined &&
      (believes === true || believes(request.socket.remoteAddress, 0))
    ) {
      const comma = forwarded.lastIndexOf(',');
      return (comma === -1 ? forwarded : forwarded.slice(comma + 1)).trim();
    }
    const host = request.headers.host;
    return typeof host === 'string' ? host : '';
  };
}
