// Argument parsing shared by the commands: node:util parseArgs, with usage errors as values.
import { type ParseArgsConfig, parseArgs } from 'node:util';

export class UsageError extends Error {
  readonly code = 'MDM_USAGE';
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
