// `mdm-discovery healthcheck`: for a container HEALTHCHECK with no curl in the image.
import { adminReadyUrl } from '../../server.js';
import { parse, UsageError } from '../args.js';
import type { Command } from '../run.js';

const USAGE = `Usage: mdm-discovery healthcheck [--url URL]

Exits 0 when the running service answers its readiness check, else 1. Default URL: /readyz on
the admin listener (ADMIN_PORT), or on the public port when ADMIN_PORT=off.
`;

export const healthcheckCommand: Command = {
  summary: 'exit 0 when the local service is ready (for container health checks)',
  usage: USAGE,
  async run(args, io) {
    let url: string;
    try {
      const { values, positionals } = parse(args, { url: { type: 'string' } });
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      url = values.url ?? adminReadyUrl();
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      io.stderr.write(`mdm-discovery healthcheck: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    try {
      const { request } = await import('undici');
      const res = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 });
      await res.body.text();
      if (res.statusCode === 200) return 0;
      io.stderr.write(`mdm-discovery healthcheck: ${url} answered ${res.statusCode}\n`);
    } catch (error) {
      io.stderr.write(
        `mdm-discovery healthcheck: ${url}: ${(error as { code?: string }).code ?? String(error)}\n`,
      );
    }
    return 1;
  },
};
