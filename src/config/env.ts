// Server settings from the environment: one schema, parsed once by server.ts.
import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_IPV6_PREFIX } from '../address.js';
import { formatPath } from './json-positions.js';

/** The request limits' defaults: the settings' and buildApp's (http/app.ts) alike. */
export const LIMIT_DEFAULTS = {
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  // Room for a URL of several kilobytes (the common 8 KiB of web servers); Node stops at 16 KiB of headers.
  maxUrlLength: 8192,
  // 100/s per address: a whole office of devices behind one NAT, or every device behind a proxy
  // when TRUST_PROXY is not set, stays far below it; a flood from one address does not.
  rateLimitPerMinute: 6000,
  rateLimitIpv6Prefix: DEFAULT_IPV6_PREFIX,
} as const;

const port = z.coerce
  .number({ error: 'must be a whole number from 0 to 65535' })
  .int({ error: 'must be a whole number from 0 to 65535' })
  .min(0, { error: 'must be a whole number from 0 to 65535' })
  .max(65535, { error: 'must be a whole number from 0 to 65535' });

const millis = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a whole number of milliseconds' })
    .int({ error: 'must be a whole number of milliseconds' })
    .min(1, { error: 'must be a whole number of milliseconds' })
    .default(fallback);

const count = (fallback: number, min: number) =>
  z.coerce
    .number({ error: `must be a whole number, ${min} or more` })
    .int({ error: `must be a whole number, ${min} or more` })
    .min(min, { error: `must be a whole number, ${min} or more` })
    .default(fallback);

/** The admin token's one rule, for ADMIN_TOKEN and the content of ADMIN_TOKEN_FILE alike. */
export const adminToken = z
  .string()
  .min(16, { error: 'must be at least 16 characters (use: openssl rand -hex 32)' });

const DURATION = /^(\d+)(ms|s|m|h)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `30s`, `5m`, `1h`, or milliseconds; `off` (or the fallback `off`) is 0. */
const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((raw, ctx): number => {
      const value = raw.trim();
      if (value === 'off') return 0;
      const match = DURATION.exec(value);
      if (!match || Number(match[1]) === 0) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a duration such as 30s, 5m or 1h, or off',
        });
        return z.NEVER;
      }
      return Number(match[1]) * UNIT_MS[(match[2] ?? 'ms') as keyof typeof UNIT_MS];
    });

const CIDR = /^(.+?)(?:\/(\d{1,3}))?$/;

/** off | a hop count | addresses and CIDRs, comma-separated (also loopback, linklocal, uniquelocal). */
const trustProxy = z
  .string()
  .default('off')
  .transform((raw, ctx): boolean | number | string[] => {
    const value = raw.trim();
    if (value === 'off' || value === 'false') return false;
    if (/^\d+$/.test(value)) return Number(value);
    const entries = value
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    const bad = entries.find((e) => {
      if (['loopback', 'linklocal', 'uniquelocal'].includes(e)) return false;
      const [, address = '', bits] = CIDR.exec(e) ?? [];
      const family = isIP(address);
      return family === 0 || (bits !== undefined && Number(bits) > (family === 4 ? 32 : 128));
    });
    if (bad !== undefined || entries.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: `${bad === undefined ? 'is empty' : `"${bad}" is not an address or CIDR`}; use off, a hop count, or addresses/CIDRs such as 10.0.0.0/8,127.0.0.1`,
      });
      return z.NEVER;
    }
    return entries;
  });

export const envSchema = z
  .object({
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: port.default(8080),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    /** A JSON file or a directory of them; unset means the embedded demo config. */
    MDM_DISCOVERY_CONFIG: z.string().min(1).optional(),
    /** Folders besides the config's own where users files may be, comma-separated. */
    USERS_FILE_ROOTS: z
      .string()
      .optional()
      .transform((raw) => commaList(raw)),
    /** Key of the keyed hash that stands in for user-identifier in logs; random per process when unset. */
    LOG_HASH_KEY: z
      .string()
      .min(16, { error: 'must be at least 16 characters (use: openssl rand -hex 32)' })
      .optional(),
    /** `auto` (pretty on a TTY), `json` or `pretty`. */
    LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
    /** The admin listener (/metrics, /healthz, /readyz, /watch, the status page); `off` for none. */
    ADMIN_HOST: z.string().min(1).default('127.0.0.1'),
    ADMIN_PORT: z
      .union([z.literal('off'), port], { error: 'must be a port number from 0 to 65535, or off' })
      .default(9090),
    /**
     * Needed for the status page and /watch when ADMIN_HOST is not a loopback address; generated
     * at start (and its sign-in URL logged once) when neither it nor ADMIN_TOKEN_FILE is set.
     */
    ADMIN_TOKEN: adminToken.optional(),
    /** A file holding the admin token (a Docker or Kubernetes secret), read once at start. */
    ADMIN_TOKEN_FILE: z.string().min(1).optional(),
    /** Serve HTTPS directly: PEM certificate chain and key; both or neither. */
    TLS_CERT_FILE: z.string().min(1).optional(),
    TLS_KEY_FILE: z.string().min(1).optional(),
    TRUST_PROXY: trustProxy,
    SHUTDOWN_GRACE_MS: millis(10_000),
    REQUEST_TIMEOUT_MS: millis(LIMIT_DEFAULTS.requestTimeoutMs),
    HEADERS_TIMEOUT_MS: millis(LIMIT_DEFAULTS.headersTimeoutMs),
    KEEP_ALIVE_TIMEOUT_MS: millis(LIMIT_DEFAULTS.keepAliveTimeoutMs),
    MAX_URL_LENGTH: count(LIMIT_DEFAULTS.maxUrlLength, 256),
    /** Per client address; 0 turns the limit off. */
    RATE_LIMIT_PER_MINUTE: count(LIMIT_DEFAULTS.rateLimitPerMinute, 0),
    /** IPv6 clients sharing this many leading bits count as one client (a /64 by default). */
    RATE_LIMIT_IPV6_PREFIX: z.coerce
      .number({ error: 'must be a whole number from 32 to 128' })
      .int({ error: 'must be a whole number from 32 to 128' })
      .min(32, { error: 'must be a whole number from 32 to 128' })
      .max(128, { error: 'must be a whole number from 32 to 128' })
      .default(LIMIT_DEFAULTS.rateLimitIpv6Prefix),
    /** Watch the config, users files and TLS files, and reload on change (SIGHUP always reloads). */
    WATCH_CONFIG: z
      .enum(['true', 'false'], { error: 'must be true or false' })
      .default('true')
      .transform((v) => v === 'true'),
    RELOAD_DEBOUNCE_MS: millis(300),
    /** How often the watcher asks every configured domain in public; off by default. */
    WATCH_INTERVAL: duration('off'),
    /** How often, at most, the BaseURL probe and the Entra tenant lookup run per tenant. */
    WATCH_DEEP_INTERVAL: duration('1h'),
    WATCH_CONCURRENCY: count(4, 1),
    /** Per connection and request of the watcher. */
    WATCH_TIMEOUT_MS: millis(10_000),
    /** HOST:PORT:ADDRESS[:PORT2] entries, comma-separated, as verify's --resolve (split-horizon DNS, tests). */
    WATCH_RESOLVE: z
      .string()
      .optional()
      .transform((raw) => commaList(raw)),
    /** A CA certificate (PEM) the watcher trusts besides the system's. */
    WATCH_CA_FILE: z.string().min(1).optional(),
  })
  .superRefine((env, ctx) => {
    if (env.ADMIN_TOKEN !== undefined && env.ADMIN_TOKEN_FILE !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_TOKEN_FILE'],
        message: 'cannot be set with ADMIN_TOKEN: keep one of the two',
      });
    }
    if ((env.TLS_CERT_FILE === undefined) !== (env.TLS_KEY_FILE === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.TLS_CERT_FILE === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE'],
        message: 'is required with the other TLS_*_FILE: set both to serve HTTPS, or neither',
      });
    }
  });

export type Env = z.infer<typeof envSchema>;

/** `a,b` to `["a", "b"]`: USERS_FILE_ROOTS, WATCH_RESOLVE. */
export function commaList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

export class EnvError extends Error {
  readonly code = 'MDM_ENV_INVALID';
}

/** Parses the variables this service reads; the error names each variable and the fix. */
export function parseEnv(source: Readonly<Record<string, string | undefined>>): Env {
  // Empty values count as unset, as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(
    Object.entries(source).filter(([, v]) => v !== undefined && v !== ''),
  );
  const result = envSchema.safeParse(present);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = formatPath(issue.path);
    // Secrets are never echoed back.
    const value = name.endsWith('_KEY') || name.endsWith('_TOKEN') ? undefined : present[name];
    return `${name}${value === undefined ? '' : `=${JSON.stringify(value)}`}: ${issue.message}`;
  });
  throw new EnvError(`invalid environment: ${lines.join('; ')}`);
}
