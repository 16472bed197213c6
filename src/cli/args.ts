// Argument parsing shared by the commands: node:util parseArgs, its errors as usage errors.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './command.js';

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
