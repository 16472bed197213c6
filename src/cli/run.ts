// Command dispatch: `mdm-discovery <command> [options]`. Library code: returns an exit code, never exits.

import { VERSION } from '../version.js';
import { explainCommand } from './commands/explain.js';
import { healthcheckCommand } from './commands/healthcheck.js';
import { initCommand } from './commands/init.js';
import { serveCommand } from './commands/serve.js';
import { validateCommand } from './commands/validate.js';
import { verifyCommand } from './commands/verify.js';

export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Only NO_COLOR is read from it (https://no-color.org). */
  readonly env?: { readonly NO_COLOR?: string | undefined };
}

export interface Command {
  readonly summary: string;
  readonly usage: string;
  run(args: string[], io: Io): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  serve: serveCommand,
  explain: explainCommand,
  verify: verifyCommand,
  validate: validateCommand,
  init: initCommand,
  healthcheck: healthcheckCommand,
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

/** Exit codes: 0 success, 1 the command failed, 2 usage error. */
export async function run(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr.write(`mdm-discovery: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.usage);
    return 0;
  }
  return command.run(rest, io);
}
