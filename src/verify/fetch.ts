// One HTTP exchange through undici, within a deadline and a size cap; errors described for people.
import type { Agent } from 'undici';
import { request } from 'undici';
import { VERSION } from '../version.js';
import type { Answer } from './evaluate.js';

/** A discovery answer is a few hundred bytes; a body past this is not read further. */
export const MAX_BODY_BYTES = 256 * 1024;

export interface Client {
  readonly agent: Agent;
  /** Each exchange, headers and body, ends within this time (a server that drips is cut off). */
  readonly timeoutMs: number;
  /** Aborts when the whole run's deadline has passed. */
  readonly deadline: AbortSignal;
}

/** undici's errors for a timeout of its own: the same event as this exchange's --timeout. */
const UNDICI_TIMEOUTS = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** An error of verify's own making; its message is the description. */
export class FetchError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** For an API call (sync's sources): its own headers, body type and size cap. */
export interface ExchangeOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** The body's Content-Type: application/xml (the BaseURL probe's property list) by default. */
  readonly contentType?: string;
  readonly maxBytes?: number;
}

export async function fetchAnswer(
  client: Client,
  url: URL,
  method: 'GET' | 'HEAD' | 'POST',
  body?: string,
  options: ExchangeOptions = {},
): Promise<Answer> {
  const maxBytes = options.maxBytes ?? MAX_BODY_BYTES;
  const signal = AbortSignal.any([client.deadline, AbortSignal.timeout(client.timeoutMs)]);
  try {
    const res = await request(url, {
      method,
      dispatcher: client.agent,
      signal,
      headers: {
        'user-agent': `mdm-discovery-verify/${VERSION}`,
        ...(body === undefined ? {} : { 'content-type': options.contentType ?? 'application/xml' }),
        ...options.headers,
      },
      ...(body === undefined ? {} : { body }),
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        res.body.destroy();
        throw new FetchError(
          'MDM_BODY_TOO_LARGE',
          options.maxBytes === undefined
            ? `the body is larger than ${MAX_BODY_BYTES / 1024} KiB; a discovery answer is a few hundred bytes`
            : `the body is larger than ${maxBytes / 1024 / 1024} MiB`,
        );
      }
      chunks.push(chunk as Buffer);
    }
    return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) };
  } catch (error) {
    if (error instanceof FetchError) throw error;
    if (client.deadline.aborted) {
      throw new FetchError('MDM_DEADLINE', 'the run took longer than --deadline');
    }
    // The agent's own timeouts (connect, headers, body: verify/net.ts) have --timeout's length
    // too, and its timers are coarser than this one: whichever fires first, the same words.
    if (signal.aborted || UNDICI_TIMEOUTS.has((error as { code?: string }).code ?? '')) {
      throw new FetchError(
        'MDM_TIMEOUT',
        `no complete answer within ${client.timeoutMs / 1000} s (--timeout)`,
      );
    }
    throw error;
  }
}

/** Node's and undici's errors by their code; verify's own (codes `MDM_…`) by their message. */
export function describeError(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const own = [e, e.cause].find((x) => x?.code?.startsWith('MDM_'));
  if (own) return own.message;
  return e.cause?.code ?? e.code ?? e.message;
}
