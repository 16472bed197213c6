// The network options that verify, init --intune-domain and validate --online share: --resolve, --ca, --timeout.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Client } from '../verify/fetch.js';
import type { NetOptions } from '../verify/net.js';
import { UsageError } from './command.js';

export const NETWORK_OPTIONS = {
  ca: { type: 'string' },
  resolve: { type: 'string', multiple: true },
  timeout: { type: 'string' },
} as const;

export const NETWORK_USAGE = `  --ca FILE                also trust this CA certificate (PEM), for private PKI
  --resolve HOST:PORT:ADDR[:PORT2]  connect to ADDR (and PORT2) for HOST:PORT, like curl
                           (repeatable; HOST may be *)
  --timeout SECONDS        per connection and request, body included (default: 10)`;

export const seconds = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a number of seconds` })
    .positive({ error: `${name} must be a number of seconds` })
    .default(fallback);

/** --resolve, --ca and --timeout as NetOptions; UsageError for a bad one. */
export async function networkOptions(values: {
  ca?: string | undefined;
  resolve?: string[] | undefined;
  timeout?: string | undefined;
}): Promise<NetOptions> {
  const timeout = seconds('--timeout', 10).safeParse(values.timeout);
  if (!timeout.success) throw new UsageError(timeout.error.issues[0]?.message ?? 'bad --timeout');
  // Loaded here, not at start-up: undici is only for the commands that go on the network.
  const { parseResolve } = await import('../verify/net.js');
  const resolve = (values.resolve ?? []).map((text) => {
    const parsed = parseResolve(text);
    if (!parsed) throw new UsageError(`--resolve "${text}" is not HOST:PORT:ADDRESS[:PORT]`);
    return parsed;
  });
  let ca: string | undefined;
  if (values.ca !== undefined) {
    ca = await readFile(values.ca, 'utf8').catch(() => {
      throw new UsageError(`--ca ${values.ca}: cannot be read`);
    });
  }
  return { ca, resolve, timeoutMs: timeout.data * 1000 };
}

/** A client for a few lookups (no target of its own: every host is checked for private addresses). */
export async function lookupClient(options: NetOptions): Promise<Client> {
  const { createClient } = await import('../verify/net.js');
  return createClient(options, '', options.timeoutMs * 10);
}
