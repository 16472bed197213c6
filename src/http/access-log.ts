// The one log line per discovery request, built from a prefix and written to pino's own destination.
import type { FastifyBaseLogger } from 'fastify';
import { symbols } from 'pino';
import type { Decision } from '../discovery/decide.js';
import { toAsciiDomain } from '../discovery/host.js';
import { isModelFamily, userDomain } from '../discovery/query.js';
import { remember } from '../remember.js';
import { REQUEST_MESSAGE } from './logger.js';

/** Writes the line for one answered discovery request; `id` is the request's `reqId`. */
export type AccessLog = ((
  id: string,
  decision: Decision,
  method: string,
  status: number,
  ms: number,
) => void) & {
  /** True when lines are built here; false when pino's child logger writes each one. */
  readonly built: boolean;
};

/**
 * Request ids as Fastify makes them (`req-1`, `req-2`, … in base 36, wrapping below 2^31), shared
 * by the hot path and Fastify (its `genReqId`), so that ids stay unique across the two.
 */
export function requestIds(): () => string {
  let next = 0;
  return () => {
    next = (next + 1) & 2147483647;
    return `req-${next.toString(36)}`;
  };
}

/**
 * The access log for `logger`, or undefined when info lines are not written (then neither the
 * hash nor the line is computed). The line is what `logger.child({ reqId }).info(fields,
 * 'discovery')` writes, byte for byte, without the child logger or pino's serialiser: the level
 * prefix, the logger's own time function and bindings, then the fields with their JSON text
 * cached (tenant and rule names repeat). Checked once against pino's own serialiser for a sample
 * line; a logger set up otherwise (formatters, a multistream, a logger that is not pino) gets
 * the child logger on every line instead. (Together with the hot path and the sweep, this
 * measured ×1.14 in `npm run bench:ab`; the line is now about 6.6 % of a request's profile:
 * docs/PERFORMANCE.md.)
 */
export function accessLog(
  logger: FastifyBaseLogger | undefined,
  fingerprint: (identifier: string) => string,
): AccessLog | undefined {
  const enabled = (
    logger as { isLevelEnabled?(level: string): boolean } | undefined
  )?.isLevelEnabled?.('info');
  if (logger === undefined || enabled !== true) return undefined;
  const fields = (decision: Decision, method: string, status: number, ms: number) =>
    accessFields(decision, method, status, ms, fingerprint);
  const slow: AccessLog = Object.assign(
    (id: string, decision: Decision, method: string, status: number, ms: number) =>
      logger.child({ reqId: id }).info(fields(decision, method, status, ms), REQUEST_MESSAGE),
    { built: false },
  );

  const pinoLogger = logger as unknown as PinoInternals;
  const stream = pinoLogger[symbols.streamSym];
  const prefix = pinoLogger[symbols.lsCacheSym]?.[30];
  const time = pinoLogger[symbols.timeSym];
  const bindings = pinoLogger[symbols.chindingsSym];
  if (
    typeof stream?.write !== 'function' ||
    stream[symbols.needsMetadataGsym] === true ||
    typeof prefix !== 'string' ||
    typeof time !== 'function' ||
    typeof bindings !== 'string' ||
    // Applied on the way to the serialiser, which the check below does not pass through.
    pinoLogger[symbols.mixinSym] !== undefined ||
    (logger as unknown as Record<symbol, unknown>)[MSG_PREFIX] !== undefined ||
    pinoLogger[symbols.hooksSym]?.logMethod !== undefined ||
    pinoLogger[symbols.hooksSym]?.streamWrite !== undefined
  ) {
    return slow;
  }
  const quoted = new Map<string, string>();
  const json = (text: string) => remember(quoted, text, () => JSON.stringify(text), 4096);
  const end = `,${JSON.stringify(pinoLogger[symbols.messageKeySym] ?? 'msg')}:${JSON.stringify(REQUEST_MESSAGE)}}\n`;
  // The fields in accessFields' order; undefined ones left out, as pino leaves them out.
  const line = (stamp: string, id: string, f: ReturnType<typeof fields>) => {
    let text = `${prefix}${stamp}${bindings},"reqId":"${id}"`;
    if (f.tenant !== undefined) text += `,"tenant":${json(f.tenant)}`;
    if (f.rule !== undefined) text += `,"rule":${json(f.rule)}`;
    text += `,"outcome":"${f.outcome}","status":${f.status},"method":${json(f.method)}`;
    if (f.modelFamily !== undefined) text += `,"modelFamily":"${f.modelFamily}"`;
    if (f.userDomain !== undefined) text += `,"userDomain":${json(f.userDomain)}`;
    if (f.user !== undefined) text += `,"user":"${f.user}"`;
    return `${text},"ms":${f.ms}${end}`;
  };

  // The check: one sample line, through pino's serialiser and through ours, with the same time.
  const sample: Decision = {
    outcome: 'enroll',
    response: undefined as never,
    tenant: 'Sample "tenant" \u2028',
    rule: 'rule',
    query: { userIdentifier: 'joe@contoso.example', modelFamily: 'iPhone' },
  };
  const stamp = time();
  const child = logger.child({ reqId: 'req-1' }) as unknown as PinoInternals;
  const sampleFields = fields(sample, 'GET', 200, 0.12345);
  const expected = child[symbols.asJsonSym]?.(sampleFields, REQUEST_MESSAGE, 30, stamp);
  if (expected !== line(stamp, 'req-1', sampleFields)) return slow;

  return Object.assign(
    (id: string, decision: Decision, method: string, status: number, ms: number) => {
      stream.write(line(time(), id, fields(decision, method, status, ms)));
    },
    { built: true },
  );
}

/** The fields of a request's line, in the order they are written. */
export function accessFields(
  decision: Decision,
  method: string,
  status: number,
  ms: number,
  fingerprint: (identifier: string) => string,
) {
  const query = decision.query;
  const user = query?.userIdentifier;
  return {
    tenant: decision.tenant,
    rule: decision.rule,
    outcome: decision.outcome,
    status,
    method,
    // Apple's values only: anything else could be an address sent in the wrong parameter.
    modelFamily: query?.modelFamily === undefined ? undefined : familyLabel(query.modelFamily),
    // Never the address itself: its domain when it is one (a valid name, so never a string
    // with an @ or an escaped one), and a keyed hash to correlate one person's attempts.
    userDomain: loggedDomain(user),
    user: user === undefined ? undefined : fingerprint(user),
    ms: Math.round(ms * 100) / 100,
  };
}

/** pino has it, its types do not. */
const MSG_PREFIX = (symbols as unknown as Record<string, symbol>).msgPrefixSym as symbol;

/** The parts of a pino logger the fast line reads, through pino's exported symbols. */
interface PinoInternals {
  [symbols.streamSym]?: { write(line: string): unknown; [symbols.needsMetadataGsym]?: boolean };
  [symbols.lsCacheSym]?: Record<number, string>;
  [symbols.timeSym]?: () => string;
  [symbols.chindingsSym]?: string;
  [symbols.messageKeySym]?: string;
  [symbols.asJsonSym]?: (obj: object, msg: string, level: number, time: string) => string;
  [symbols.mixinSym]?: unknown;
  [symbols.hooksSym]?: { logMethod?: unknown; streamWrite?: unknown };
}

function familyLabel(family: string): string {
  return isModelFamily(family) ? family : 'other';
}

/** Checked domains remembered (most requests come from a few domains); emptied when full. */
const checkedDomains = new Map<string, string>();
const REMEMBERED_DOMAINS = 1024;

function loggedDomain(user: string | undefined): string | undefined {
  const domain = userDomain(user);
  if (domain === undefined) return undefined;
  return remember(
    checkedDomains,
    domain,
    () => toAsciiDomain(domain) ?? 'invalid',
    REMEMBERED_DOMAINS,
  );
}
