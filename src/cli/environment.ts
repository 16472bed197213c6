// The environment the commands see: the process environment over a .env file in the working directory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';

/**
 * The one place .env is read. The process environment wins over the file, as in most tools; the
 * process environment itself is not changed. A missing .env is fine; an unreadable one is too
 * (the environment alone then counts).
 */
export function loadEnvironment(
  processEnv: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Record<string, string | undefined> {
  let file: Record<string, string> = {};
  try {
    file = parse(readFileSync(join(cwd, '.env')));
  } catch {
    // No .env: the environment alone.
  }
  return { ...file, ...processEnv };
}
