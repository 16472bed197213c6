// The contract between the dispatcher (run.ts) and each command: what a command is given and returns.
import type { Env } from '../config/env.js';

export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export interface Context {
  readonly io: Io;
  /** The service's settings, parsed once from the environment and .env. */
  readonly settings: Env;
  /** Whether to colour what goes to stdout (NO_COLOR, FORCE_COLOR, a terminal: see color.ts). */
  readonly color: boolean;
}

/**
 * 0: done, nothing failed; 1: the check or the command failed; 3: done, and something changed
 * (`sync`, so that a timer can tell). Usage errors are thrown (2).
 */
export type ExitCode = 0 | 1 | 3;

export interface Command {
  readonly usage: string;
  run(args: string[], context: Context): Promise<ExitCode>;
}

/** A mistake in the command line: the dispatcher prints it with the usage and exits 2. */
export class UsageError extends Error {
  readonly code = 'MDM_USAGE';
}
