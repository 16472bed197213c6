// Every problem line a config document gets (errors and warnings), as a person would read them.
import { parseConfig } from '../../src/config/load.js';
import { ConfigError, formatProblem } from '../../src/config/problems.js';

export function problemLines(document: unknown, file = 'c.json'): string[] {
  const text = typeof document === 'string' ? document : JSON.stringify(document, null, 2);
  try {
    return parseConfig([{ file, text }]).warnings.map(formatProblem);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map(formatProblem);
  }
}

/** The problem without its `file:line:column` prefix. */
export function withoutPlace(line: string): string {
  return line.replace(/^\S+ /, '');
}
