// Prepared answers: status, headers and body bytes computed once, when a config is compiled.

import { type Version, WELL_KNOWN_FAILED } from '../protocol.js';
import type { DiscoveryQuery } from './query.js';

export interface RedirectTarget {
  readonly status: 302 | 307;
  /** The target URL up to its query. */
  readonly base: string;
  /** The target's own query pairs, as written, with their decoded names. */
  readonly params: readonly { readonly name: string; readonly pair: string }[];
  /** Security headers and Cache-Control; Location is added per request. */
  readonly headers: Readonly<Record<string, string>>;
}

const NO_BODY = Buffer.alloc(0);

export interface PreparedResponse {
  readonly status: number;
  /** Complete header set, lower-case names, Content-Length included. */
  readonly headers: Readonly<Record<string, string>>;
  /** Compact JSON text. */
  readonly body: string;
  /**
   * The body's UTF-8 bytes (no byte order mark), written as they are. A Buffer, not the string:
   * Fastify would append `; charset=utf-8` to the Content-Type of a string body.
   */
  readonly bytes: Buffer;
  /** `headers` flattened to [name, value, …], the form node:http writes without copying. */
  readonly rawHeaders: readonly string[];
}

/** A prepared answer from its status, complete headers and body text. */
export function preparedResponse(
  status: number,
  headers: Readonly<Record<string, string>>,
  body: string,
  rawHeaders: readonly string[] = Object.entries(headers).flat(),
): PreparedResponse {
  return {
    status,
    headers,
    body,
    bytes: body === '' ? NO_BODY : Buffer.from(body, 'utf8'),
    rawHeaders,
  };
}

/** One entry of `Servers` in a discovery answer (Apple's AvailableServer: docs/protocol.md section 2). */
export interface AvailableServer {
  readonly version: Version;
  readonly baseUrl: string;
}

/**
 * Headers every JSON answer carries. Content-Type is exactly `application/json` with no charset:
 * the device and Microsoft's troubleshooting check that string (docs/protocol.md section 2). The answer
 * depends on the query, so no cache may keep it.
 */
const JSON_HEADERS = {
  'content-type': 'application/json',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

export function prepare(
  status: number,
  document: unknown,
  baseHeaders: Readonly<Record<string, string>>,
): PreparedResponse {
  return preparer(baseHeaders)(status, document);
}

/**
 * `prepare` for many answers at once, as a config's compile needs: one prepared answer per
 * distinct status and body, and one header set per body length, shared by every tenant and rule
 * that gives them. 100,000 tenants hold a few thousand header sets, not 100,000.
 */
export function preparer(
  baseHeaders: Readonly<Record<string, string>>,
): (status: number, document: unknown) => PreparedResponse {
  const answers = new Map<string, PreparedResponse>();
  const headerSets = new Map<number, Pick<PreparedResponse, 'headers' | 'rawHeaders'>>();
  return (status, document) => {
    const body = JSON.stringify(document);
    const key = `${status} ${body}`;
    let answer = answers.get(key);
    if (answer === undefined) {
      const length = Buffer.byteLength(body, 'utf8');
      let set = headerSets.get(length);
      if (set === undefined) {
        const headers = { ...baseHeaders, ...JSON_HEADERS, 'content-length': String(length) };
        set = { headers, rawHeaders: Object.entries(headers).flat() };
        headerSets.set(length, set);
      }
      answer = preparedResponse(status, set.headers, body, set.rawHeaders);
      answers.set(key, answer);
    }
    return answer;
  };
}

/**
 * The 200 body: exactly one server, keys in Apple's spelling and order.
 * https://developer.apple.com/documentation/devicemanagement/wellknown/availableserver
 * Apple: the array "needs to contain a single item"; the device uses the first.
 */
export function serversDocument(server: AvailableServer): unknown {
  return { Servers: [{ Version: server.version, BaseURL: server.baseUrl }] };
}

/**
 * The 403 body the device understands (iOS 17.5+, macOS 14.5+, visionOS 1.2+).
 * https://github.com/apple/device-management/blob/release/mdm/errors/well-known.failed.yaml
 */
export function failedDocument(message: string, description: string | undefined): unknown {
  return description === undefined
    ? { code: WELL_KNOWN_FAILED, message }
    : { code: WELL_KNOWN_FAILED, message, description };
}

/** Bodies of the service's own errors; the same bytes whatever the request, so nothing leaks. */
export const ERROR_DOCUMENTS = {
  notFound: { code: 'not_found', message: 'Not Found' },
  badQuery: {
    code: 'bad_request',
    message: 'user-identifier and model-family must be valid percent-encoded UTF-8',
  },
  badRequest: { code: 'bad_request', message: 'Bad Request' },
  methodNotAllowed: { code: 'method_not_allowed', message: 'Use GET or HEAD' },
  internal: { code: 'internal_error', message: 'Internal Server Error' },
  tooManyRequests: { code: 'too_many_requests', message: 'Too many requests; retry later' },
} as const;

/**
 * A redirect whose target carries the request's user-identifier and model-family, merged with the
 * target's own query (the request's values win): the device follows redirects but does not
 * re-add the query (docs/protocol.md section 2, "3xx").
 */
export function redirectResponse(target: RedirectTarget, query: DiscoveryQuery): PreparedResponse {
  const carried: [string, string | undefined][] = [
    ['user-identifier', query.userIdentifier],
    ['model-family', query.modelFamily],
  ];
  const pairs = target.params
    .filter(({ name }) => !carried.some(([key, value]) => key === name && value !== undefined))
    .map(({ pair }) => pair);
  for (const [key, value] of carried) {
    if (value !== undefined) pairs.push(`${key}=${encodeURIComponent(value)}`);
  }
  const location = pairs.length === 0 ? target.base : `${target.base}?${pairs.join('&')}`;
  return preparedResponse(
    target.status,
    { ...target.headers, location, 'content-length': '0' },
    '',
  );
}

/**
 * What a discovery body says, for people (the status page, the watcher): its first server, or a
 * refusal's message; neither for any other body. Never throws.
 */
export function readAnswer(body: string): {
  readonly server?: { readonly version: string; readonly baseUrl: string };
  readonly message?: string;
} {
  try {
    const json = JSON.parse(body) as {
      Servers?: { Version?: unknown; BaseURL?: unknown }[];
      message?: unknown;
    };
    const first = json.Servers?.[0];
    if (typeof first?.Version === 'string' && typeof first.BaseURL === 'string') {
      return { server: { version: first.Version, baseUrl: first.BaseURL } };
    }
    return typeof json.message === 'string' ? { message: json.message } : {};
  } catch {
    return {};
  }
}
