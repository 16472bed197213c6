// `mdm-discovery healthcheck`: for a container HEALTHCHECK with no curl in the image.
import { get as getHttp } from 'node:http';
import { get as getHttps } from 'node:https';
import type { Env } from '../../config/env.js';
import { parse } from '../args.js';
import { type Command, UsageError } from '../command.js';

const USAGE = `Usage: mdm-discovery healthcheck [--url URL]

Exits 0 when the running service answers its readiness check, else 1. Default URL: /readyz on
the admin listener (ADMIN_PORT), or on the public port when ADMIN_PORT=off.
`;

const TIMEOUT_MS = 2000;

/** Where the service answers /readyz: the admin listener, else the public one. */
export function readyUrl(settings: Env): string {
  const local = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  return settings.ADMIN_PORT === 'off'
    ? `${settings.TLS_CERT_FILE ? 'https' : 'http'}://${local(settings.HOST)}:${settings.PORT}/readyz`
    : `http://${local(settings.ADMIN_HOST)}:${settings.ADMIN_PORT}/readyz`;
}

/**
 * Node's own client (no undici to load): Docker runs this every 30 s, so it should cost little
 * more than starting Node. The service's own certificate may be for its public name, not
 * 127.0.0.1: an HTTPS check asks for the status, not for trust.
 */
function status(url: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const get = url.protocol === 'https:' ? getHttps : getHttp;
    const req = get(url, { timeout: TIMEOUT_MS, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
  });
}

export const healthcheckCommand: Command = {
  usage: USAGE,
  async run(args, { io, settings }) {
    const { values, positionals } = parse(args, { url: { type: 'string' } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const text = values.url ?? readyUrl(settings);
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new UsageError(`--url "${text}" is not a URL`);
    }
    try {
      const code = await status(url);
      if (code === 200) return 0;
      io.stderr.write(`mdm-discovery healthcheck: ${text} answered ${code}\n`);
    } catch (error) {
      io.stderr.write(
        `mdm-discovery healthcheck: ${text}: ${(error as { code?: string }).code ?? String(error)}\n`,
      );
    }
    return 1;
  },
};
