// Whether a request is answered at all: every refusal made before routing, written once for both entrances.
import type { IncomingMessage } from 'node:http';
import type { PreparedResponse } from '../discovery/response.js';
import { createRateLimiter, type RateLimiterOptions } from './rate-limit.js';
import type { FixedResponses } from './responses.js';

/** A refused request: the answer, the outcome it is counted under, and any header to add. */
export interface Refusal {
  readonly response: PreparedResponse;
  readonly outcome: 'url_too_long' | 'body_refused' | 'bad_request' | 'rate_limited';
  readonly headers?: Readonly<Record<string, string>>;
}

export interface AdmissionOptions {
  readonly maxUrlLength: number;
  /** The per-client limit (http/rate-limit.ts); `perMinute` 0 turns it off. */
  readonly rateLimit: RateLimiterOptions;
  /** The client's address, as Fastify's `request.ip` (http/trust.ts). */
  readonly clientAddress: (request: IncomingMessage) => string | undefined;
  readonly fixed: FixedResponses;
}

/**
 * The refusals, in order, of every request, whichever entrance takes it (the hot path declines
 * a refused request and Fastify's onRequest hook sends the refusal: http/app.ts). `check` counts
 * the request against the rate limit; `refusalOf` gives a request's refusal once it was checked,
 * without counting it again, so a request the hot path declined is refused the same by Fastify.
 */
export interface Admission {
  check(request: IncomingMessage): Refusal | undefined;
  refusalOf(request: IncomingMessage): Refusal | undefined;
}

/** How many Host headers a request carries (Node's `headers.host` shows only the first). */
function hostHeaders(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') count++;
  }
  return count;
}

/** A GET or HEAD that carries a body: no endpoint takes one. `Content-Length: 0` is no body. */
function hasBody(headers: IncomingMessage['headers']): boolean {
  const length = headers['content-length'];
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined;
}

export function admission(options: AdmissionOptions): Admission {
  const { maxUrlLength, clientAddress, fixed } = options;
  const limiter =
    options.rateLimit.perMinute > 0 ? createRateLimiter(options.rateLimit) : undefined;
  const tooLong: Refusal = { response: fixed.clientError(414), outcome: 'url_too_long' };
  const withBody: Refusal = { response: fixed.clientError(413), outcome: 'body_refused' };
  const twoHosts: Refusal = { response: fixed.badRequest, outcome: 'bad_request' };
  // The refusals of requests checked and declined, read back by Fastify's hook.
  const refused = new WeakMap<IncomingMessage, Refusal>();
  const check = (request: IncomingMessage): Refusal | undefined => {
    if ((request.url?.length ?? 0) > maxUrlLength) return tooLong;
    const method = request.method;
    if ((method === 'GET' || method === 'HEAD') && hasBody(request.headers)) return withBody;
    // Node keeps the first of two Host headers; a proxy in front may have read the other.
    if (hostHeaders(request.rawHeaders) > 1) return twoHosts;
    if (limiter === undefined) return undefined;
    const client = clientAddress(request);
    const wait = client === undefined ? 0 : limiter.hit(client);
    if (wait === 0) return undefined;
    return {
      response: fixed.tooManyRequests,
      outcome: 'rate_limited',
      headers: { 'retry-after': String(wait) },
    };
  };
  const checked = (request: IncomingMessage): Refusal | undefined => {
    const refusal = check(request);
    if (refusal !== undefined) refused.set(request, refusal);
    return refusal;
  };
  return {
    check: checked,
    refusalOf: (request) => refused.get(request) ?? checked(request),
  };
}
