// The service's pino logger: JSON lines, one per discovery request, with no e-mail address in clear text.
import { createHmac, randomBytes } from 'node:crypto';
import { type DestinationStream, type Logger, pino, stdSerializers } from 'pino';
import pretty from 'pino-pretty';

export interface LoggerOptions {
  readonly level: string;
  /** `pretty` for people at a terminal; `json` for everything else. */
  readonly format: 'json' | 'pretty';
  /** Where lines go; stdout (synchronous) when omitted. */
  readonly destination?: DestinationStream | NodeJS.WritableStream;
}

const EMAIL = /[^\s"'<>/?&=@]+(?:@|%40)[^\s"'<>/?&=]+/gi;

/** Replaces anything shaped like an e-mail address (raw or with %40) by `[email]`. */
export function scrubEmails(text: string): string {
  return text.replace(EMAIL, '[email]');
}

export function createLogger(options: LoggerOptions): Logger {
  const destination =
    options.destination ??
    (options.format === 'pretty'
      ? pretty({
          colorize: true,
          sync: true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
        })
      : // Synchronous writes keep memory bounded under a flood (BASELINE.md).
        pino.destination({ dest: 1, sync: true }));
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
        err: (err: Error) => {
          const out = stdSerializers.err(err);
          out.message = scrubEmails(out.message);
          if (out.stack) out.stack = scrubEmails(out.stack);
          return out;
        },
      },
    },
    destination,
  );
}

/**
 * A keyed hash that stands in for a user-identifier in logs, so that one person's attempts can be
 * correlated without the address being written anywhere. Without a key the hash changes per process.
 */
export function userFingerprinter(key: string | undefined): (identifier: string) => string {
  const secret = key ?? randomBytes(32).toString('hex');
  return (identifier) =>
    createHmac('sha256', secret).update(identifier.toLowerCase()).digest('hex').slice(0, 16);
}
