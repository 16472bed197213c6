// Command dispatch: `mdm-discovery <command> [options]`. Library code: returns an exit code, never exits.
import { ConfigError, problemLines } from '../config/problems.js';
import { VERSION } from '../version.js';
import { colorFor } from './color.js';
import { type Command, type Io, UsageError } from './command.js';

/** Each command's module is loaded only when it runs: `--version` and `healthcheck` stay quick. */
const COMMANDS: Record<string, { readonly summary: string; load(): Promise<Command> }> = {
  serve: {
    summary: 'serve the discovery endpoint (settings from the environment and .env)',
    load: async () => (await import('./commands/serve.js')).serveCommand,
  },
  explain: {
    summary: 'show which tenant and rule answer a request, and the exact response',
    load: async () => (await import('./commands/explain.js')).explainCommand,
  },
  verify: {
    summary: 'check a live domain the way an Apple device asks, and say what fails',
    load: async () => (await import('./commands/verify.js')).verifyCommand,
  },
  validate: {
    summary: 'check a config file or directory, with every error and warning',
    load: async () => (await import('./commands/validate.js')).validateCommand,
  },
  init: {
    summary: 'write a starter config from flags',
    load: async () => (await import('./commands/init.js')).initCommand,
  },
  watch: {
    summary:
      'watch every configured domain in public and export the results (no discovery listener)',
    load: async () => (await import('./commands/watch.js')).watchCommand,
  },
  sync: {
    summary: 'write one config file per customer (CSV, CIPP or Graph), each domain proved first',
    load: async () => (await import('./commands/sync.js')).syncCommand,
  },
  healthcheck: {
    summary: 'exit 0 when the local service is ready (for container health checks)',
    load: async () => (await import('./commands/healthcheck.js')).healthcheckCommand,
  },
};

export function commandNames(): string[] {
  return Object.keys(COMMANDS);
}

function help(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `mdm-discovery ${VERSION}: Apple account-driven enrollment discovery for many domains

Usage: mdm-discovery <command> [options]

Commands:
${lines.join('\n')}

Run "mdm-discovery <command> --help" for a command's options.
`;
}

/**
 * Exit codes, decided here for every command: 0 success, 1 the command or its check failed (an
 * invalid config included), 2 a usage or settings error. Every failure is a message of one or a
 * few lines, never a stack trace.
 */
export async function run(
  argv: string[],
  io: Io,
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (entry === undefined) {
    io.stderr.write(`mdm-discovery: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.usage);
    return 0;
  }
  // zod, behind the settings, is loaded only now: --version and --help do not wait for it.
  const { EnvError, parseEnv } = await import('../config/env.js');
  try {
    const settings = parseEnv(env);
    return await command.run(rest, {
      io,
      settings,
      color: colorFor(io.stdout as { isTTY?: boolean }, env),
    });
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`mdm-discovery ${name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    if (error instanceof EnvError) {
      io.stderr.write(`mdm-discovery: ${error.message}\n`);
      return 2;
    }
    if (error instanceof ConfigError) {
      for (const line of problemLines(error.problems)) io.stderr.write(`${line}\n`);
      const errors = error.problems.filter((p) => p.severity === 'error').length;
      io.stderr.write(
        `mdm-discovery ${name}: invalid configuration (${errors} error${errors === 1 ? '' : 's'})\n`,
      );
      return 1;
    }
    const code = (error as { code?: unknown }).code;
    io.stderr.write(
      `mdm-discovery ${name}: ${(error as Error).message ?? String(error)}${typeof code === 'string' ? ` (${code})` : ''}\n`,
    );
    return 1;
  }
}
