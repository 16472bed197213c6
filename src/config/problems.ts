// Config problems: every error and warning names the file, the line, the JSON path and the fix.

export interface ConfigProblem {
  readonly severity: 'error' | 'warning';
  readonly file: string;
  /** JSON path such as `tenants[2].domains[0]`, or `(root)`. */
  readonly path: string;
  readonly line?: number | undefined;
  readonly column?: number | undefined;
  readonly message: string;
}

/** At most this many problems are printed or logged; a count stands for the rest. */
export const MAX_REPORTED_PROBLEMS = 50;
/** A value quoted in a message is cut to this many characters. */
const EXCERPT = 200;
/** A whole message past this length keeps its start and its end (the fix). */
const MAX_MESSAGE = 400;

/** A short excerpt of a value for a message: a problem names the value, it does not copy it. */
export function excerpt(value: string, max = EXCERPT): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

/** `config/a.json:14:9 tenants[2].domains[0]: "Contoso.com " has trailing whitespace; …` */
export function formatProblem(problem: ConfigProblem): string {
  const where =
    problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.column}`;
  const tag = problem.severity === 'warning' ? 'warning: ' : '';
  const { message } = problem;
  const short =
    message.length <= MAX_MESSAGE
      ? message
      : `${message.slice(0, MAX_MESSAGE - 120)} … ${message.slice(-100)}`;
  return `${where} ${tag}${excerpt(problem.path, 200)}: ${short}`;
}

/**
 * The lines to print or log for a list of problems: the first MAX_REPORTED_PROBLEMS, then one
 * line that counts the rest (a config with 40,000 errors must not write 40,000 log lines).
 */
export function problemLines(problems: readonly ConfigProblem[]): string[] {
  const lines = problems.slice(0, MAX_REPORTED_PROBLEMS).map(formatProblem);
  const rest = problems.length - lines.length;
  if (rest > 0) {
    const errors = problems.slice(lines.length).filter((p) => p.severity === 'error').length;
    lines.push(
      `… and ${rest} more problem${rest === 1 ? '' : 's'} (${errors} error${errors === 1 ? '' : 's'}) not shown; fix these first`,
    );
  }
  return lines;
}

/** Thrown when a config cannot be used; `problems` holds every error (and warning) found. */
export class ConfigError extends Error {
  readonly code = 'MDM_CONFIG_INVALID';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const errors = problems.filter((p) => p.severity === 'error');
    super(
      `invalid configuration (${errors.length} error${errors.length === 1 ? '' : 's'}):\n${problemLines(
        problems,
      ).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
