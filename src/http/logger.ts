// The service's pino logger: JSON lines, one per discovery request, with no e-mail address in clear text.
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { type DestinationStream, type Logger, pino, stdSerializers } from 'pino';
import { sipHasher } from './siphash.js';

export interface LoggerOptions {
  readonly level: string;
  /** `pretty` for people at a terminal; `json` for everything else. */
  readonly format: 'json' | 'pretty';
  /**
   * Whether pretty lines are coloured: decided as for the commands' output (cli/color.ts:
   * FORCE_COLOR, then NO_COLOR, then the terminal). JSON lines never are.
   */
  readonly color?: boolean;
  /** Where lines go; stdout (synchronous) when omitted. */
  readonly destination?: DestinationStream | NodeJS.WritableStream;
}

const EMAIL = /[^\s"'<>/?&=@]+(?:@|%40)[^\s"'<>/?&=]+/gi;

/** Replaces anything shaped like an e-mail address (raw or with %40) by `[email]`. */
export function scrubEmails(text: string): string {
  return text.replace(EMAIL, '[email]');
}

/** The message of the one line per discovery request (http/routes/discovery.ts). */
export const REQUEST_MESSAGE = 'discovery';
// pino writes `msg` last, so a request line ends with exactly this.
const REQUEST_LINE_END = `"msg":"${REQUEST_MESSAGE}"}\n`;

let stdout: DestinationStream | undefined;

/**
 * Standard output for JSON lines. Per-request lines are gathered into writes of about 4 KiB (one
 * system call for a dozen lines instead of one each) and written at the latest a second later
 * or when the process exits; every other line is written at once, with whatever is gathered
 * before it, so order is kept. Writes stay synchronous: memory stays bounded under a flood
 * (docs/PERFORMANCE.md). One per process, whatever the number of loggers.
 */
function stdoutLines(): DestinationStream {
  if (stdout === undefined) {
    const out = pino.destination({ dest: 1, sync: true });
    // Request lines wait here, joined into one string, and reach pino's destination as one
    // write: one call into it per batch, not per line (docs/PERFORMANCE.md).
    let pending = '';
    const flush = () => {
      if (pending === '') return;
      const text = pending;
      pending = '';
      out.write(text);
    };
    setInterval(flush, 1000).unref();
    process.once('exit', flush);
    stdout = {
      write(line: string) {
        pending += line;
        if (pending.length >= 4096 || !line.endsWith(REQUEST_LINE_END)) flush();
      },
    };
  }
  return stdout;
}

export function createLogger(options: LoggerOptions): Logger {
  const destination =
    options.format === 'pretty'
      ? // Loaded only for a terminal: it is not needed, nor its start-up time paid, in production.
        (createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty'))({
          colorize: options.color ?? false,
          sync: true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
          ...(options.destination ? { destination: options.destination } : {}),
        })
      : (options.destination ?? stdoutLines());
  return pino(
    {
      level: options.level,
      base: undefined,
      serializers: {
        // The query string can hold user-identifier: it is never logged, only the path.
        req: (req: { method?: string; url?: string }) => ({
          method: req.method,
          path: (req.url ?? '').split('?')[0],
        }),
        // The type, code, message and stack, addresses scrubbed, and nothing else: Node's
        // client errors carry the raw request bytes (`rawPacket`), query and all.
        err: (err: Error) => {
          const { type, message, stack } = stdSerializers.err(err);
          const code = (err as { code?: unknown }).code;
          return {
            type,
            ...(typeof code === 'string' ? { code } : {}),
            message: scrubEmails(message),
            ...(stack ? { stack: scrubEmails(stack) } : {}),
          };
        },
      },
    },
    destination,
  );
}

/**
 * A keyed hash that stands in for a user-identifier in logs, so that one person's attempts can be
 * correlated without the address being written anywhere: SipHash-2-4 of the lower-cased address,
 * keyed with the first 16 bytes of SHA-256(LOG_HASH_KEY). Without a key it changes per process.
 * (SipHash in place of an HMAC object per request: ×1.18 in `npm run bench:ab`, docs/PERFORMANCE.md.)
 */
export function userFingerprinter(key: string | undefined): (identifier: string) => string {
  const sip = sipHasher(
    key === undefined ? randomBytes(16) : createHash('sha256').update(key).digest().subarray(0, 16),
  );
  let scratch = Buffer.allocUnsafe(256);
  return (identifier) => {
    const text = identifier.toLowerCase();
    const size = Buffer.byteLength(text, 'utf8');
    if (size > scratch.length) scratch = Buffer.allocUnsafe(size);
    return sip(scratch, scratch.write(text, 'utf8'));
  };
}

/** Pretty lines for a person at a terminal; JSON for log collectors and everything else. */
export function logFormat(
  setting: 'auto' | 'json' | 'pretty',
  stdoutIsTty: boolean,
): 'json' | 'pretty' {
  if (setting !== 'auto') return setting;
  return stdoutIsTty ? 'pretty' : 'json';
}
