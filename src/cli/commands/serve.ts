// `mdm-discovery serve`: the HTTP service.
import { main } from '../../server.js';
import { parse } from '../args.js';
import { type Command, UsageError } from '../command.js';

export const serveCommand: Command = {
  usage: `Usage: mdm-discovery serve [--config PATH]

Serves /.well-known/com.apple.remotemanagement for every configured domain.

Options:
  --config PATH   a JSON config file or a directory of them
                  (default: $MDM_DISCOVERY_CONFIG, else the embedded demo config)

Environment: HOST, PORT, LOG_LEVEL, LOG_FORMAT, LOG_HASH_KEY, MDM_DISCOVERY_CONFIG (see README).
`,
  async run(args, { settings, color }) {
    const { values, positionals } = parse(args, { config: { type: 'string' } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    return main(settings, { configPath: values.config, color });
  },
};
