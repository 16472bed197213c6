// Server settings from the environment: one schema, parsed once by server.ts.
import { z } from 'zod';
import { formatPath } from './json-positions.js';

const port = z.coerce
  .number({ error: 'must be a whole number from 0 to 65535' })
  .int({ error: 'must be a whole number from 0 to 65535' })
  .min(0, { error: 'must be a whole number from 0 to 65535' })
  .max(65535, { error: 'must be a whole number from 0 to 65535' });

export const envSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** A JSON file or a directory of them; unset means the embedded demo config. */
  MDM_DISCOVERY_CONFIG: z.string().min(1).optional(),
  /** Key of the HMAC that stands in for user-identifier in logs; random per process when unset. */
  LOG_HASH_KEY: z
    .string()
    .min(16, { error: 'must be at least 16 characters (use: openssl rand -hex 32)' })
    .optional(),
  /** `auto` (pretty on a TTY), `json` or `pretty`. */
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
});

export type Env = z.infer<typeof envSchema>;

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
    const value = name.endsWith('_KEY') ? undefined : present[name];
    return `${name}${value === undefined ? '' : `=${JSON.stringify(value)}`}: ${issue.message}`;
  });
  throw new EnvError(`invalid environment:\n${lines.join('\n')}`);
}
