// Whose X-Forwarded-* headers to believe, as the function Fastify's trustProxy takes.
import proxyAddr from '@fastify/proxy-addr';

export type TrustProxy = boolean | number | readonly string[];

/** Trust decisions remembered per address; the cache is emptied when it reaches this size. */
const REMEMBERED = 1024;

/**
 * false: believe no one. A number n: the first n hops, counted from this service, are proxies
 * (proxy-addr's and Express's meaning; Fastify 5.12 alone would trust nothing for a number).
 * Addresses and CIDRs: Fastify's own matcher (@fastify/proxy-addr), its answer remembered per
 * address, so that the proxy's address is not parsed again on every request.
 */
export function trustFunction(
  trust: TrustProxy,
): boolean | ((address: string, hop: number) => boolean) {
  if (typeof trust === 'boolean') return trust;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  const matches = proxyAddr.compile([...trust]);
  const remembered = new Map<string, boolean>();
  return (address, hop) => {
    let trusted = remembered.get(address);
    if (trusted === undefined) {
      trusted = matches(address, hop);
      if (remembered.size >= REMEMBERED) remembered.clear();
      remembered.set(address, trusted);
    }
    return trusted;
  };
}
