// `mdm-discovery serve`: the HTTP service.
import { main } from '../../server.js';
import { parse, UsageError } from '../args.js';
import type { Command } from '../run.js';

export const serveCommand: Command = {
  summary: 'serve the discovery endpoint (settings from the environment and .env)',
  usage: `Usage: mdm-discovery serve [--config PATH]

Serves /.well-known/com.apple.remotemanagement for every configured domain.

Options:
  --config PATH   a JSON config file or a directory of them
                  (default: $MDM_DISCOVERY_CONFIG, else the embedded demo config)

Environment: HOST, PORT, LOG_LEVEL, LOG_FORMAT, LOG_HASH_KEY, MDM_DISCOVERY_CONFIG (see README).
`,
  async run(args, io) {
    let configPath: string | undefined;
    try {
      const { values, positionals } = parse(args, { config: { type: 'string' } });
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      configPath = values.config;
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      io.stderr.write(`mdm-discovery serve: ${error.message}\n\n${this.usage}`);
      return 2;
    }
    return main({ configPath });
  },
};
