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

/** `config/a.json:14:9 tenants[2].domains[0]: "Contoso.com " has trailing whitespace; …` */
export function formatProblem(problem: ConfigProblem): string {
  const where =
    problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.column}`;
  const tag = problem.severity === 'warning' ? 'warning: ' : '';
  return `${where} ${tag}${problem.path}: ${problem.message}`;
}

/** Thrown when a config cannot be used; `problems` holds every error (and warning) found. */
export class ConfigError extends Error {
  readonly code = 'MDM_CONFIG_INVALID';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const errors = problems.filter((p) => p.severity === 'error');
    super(
      `invalid configuration (${errors.length} error${errors.length === 1 ? '' : 's'}):\n${problems
        .map(formatProblem)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
