// `mdm-discovery validate`: checks a config the way the server would, with every error and warning.
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../config/load.js';
import { ConfigError, problemLines } from '../../config/problems.js';
import { parse } from '../args.js';
import { type Command, UsageError } from '../command.js';

const USAGE = `Usage: mdm-discovery validate [PATH]

Checks a config file or directory as the server would at start-up: prints every error and
warning with file, line, JSON path and fix.
PATH defaults to $MDM_DISCOVERY_CONFIG (environment or .env), else the embedded demo config.

Exit codes: 0 valid (warnings allowed), 1 invalid, 2 usage error.
`;

export const validateCommand: Command = {
  usage: USAGE,
  async run(args, { io, settings }) {
    const { positionals } = parse(args, {});
    if (positionals.length > 1) throw new UsageError('give at most one path');
    const path = positionals[0] ?? settings.MDM_DISCOVERY_CONFIG ?? DEFAULT_CONFIG_PATH;
    const shown = path === DEFAULT_CONFIG_PATH ? 'the embedded demo config' : path;
    try {
      const config = await loadConfig(path, { usersFileRoots: settings.USERS_FILE_ROOTS });
      for (const line of problemLines(config.warnings)) io.stdout.write(`${line}\n`);
      const rules = config.tenants.reduce((n, t) => n + t.rules.length, 0);
      const warnings = config.warnings.length;
      io.stdout.write(
        `${shown}: valid, ${count(config.tenants.length, 'tenant')}, ${count(rules, 'rule')}, ${count(warnings, 'warning')}\n`,
      );
      return 0;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const line of problemLines(error.problems)) io.stderr.write(`${line}\n`);
      const errors = error.problems.filter((p) => p.severity === 'error').length;
      io.stderr.write(`${shown}: invalid, ${count(errors, 'error')}\n`);
      return 1;
    }
  },
};

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
