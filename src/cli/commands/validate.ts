// `mdm-discovery validate`: checks a config the way the server would, with every error and warning.
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../config/load.js';
import { ConfigError, problemLines } from '../../config/problems.js';
import { configSourceFromEnvironment } from '../../server.js';
import { parse, UsageError } from '../args.js';
import type { Command } from '../run.js';

const USAGE = `Usage: mdm-discovery validate [PATH]

Checks a config file or directory as the server would at start-up: prints every error and
warning with file, line, JSON path and fix.
PATH defaults to $MDM_DISCOVERY_CONFIG (environment or .env), else the embedded demo config.

Exit codes: 0 valid (warnings allowed), 1 invalid, 2 usage error.
`;

export const validateCommand: Command = {
  summary: 'check a config file or directory, with every error and warning',
  usage: USAGE,
  async run(args, io) {
    const source = configSourceFromEnvironment();
    let path: string;
    try {
      const { positionals } = parse(args, {});
      if (positionals.length > 1) throw new UsageError('give at most one path');
      path = positionals[0] ?? source.path;
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      io.stderr.write(`mdm-discovery validate: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    const shown = path === DEFAULT_CONFIG_PATH ? 'the embedded demo config' : path;
    try {
      const config = await loadConfig(path, { usersFileRoots: source.usersFileRoots });
      for (const line of problemLines(config.warnings)) io.stdout.write(`${line}\n`);
      const rules = config.tenants.reduce((n, t) => n + t.rules.length, 0);
      const warnings = config.warnings.length;
      io.stdout.write(
        `${shown}: valid, ${config.tenants.length} tenant${config.tenants.length === 1 ? '' : 's'}, ${rules} rule${rules === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`,
      );
      return 0;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const line of problemLines(error.problems)) io.stderr.write(`${line}\n`);
      const errors = error.problems.filter((p) => p.severity === 'error').length;
      io.stderr.write(`${shown}: invalid, ${errors} error${errors === 1 ? '' : 's'}\n`);
      return 1;
    }
  },
};
