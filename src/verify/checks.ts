// What verify reports: one verdict per check, each with what was seen and the fix.

/** The device families `verify` asks as when none is given. */
export const DEFAULT_FAMILIES = ['iPhone', 'iPad', 'Mac'] as const;

export type Verdict = 'pass' | 'warn' | 'fail' | 'info';

export interface Check {
  /** Stable identifier for monitoring, e.g. `http.content-type`. */
  readonly id: string;
  /** Where it belongs: `connection`, a model family such as `iPhone`, `requests`, `baseurl`. */
  readonly section: string;
  readonly verdict: Verdict;
  /** Short name, e.g. `content-type`. */
  readonly label: string;
  /** What was seen. */
  readonly detail: string;
  /** One line: what to change. Present on warn and fail. */
  readonly fix?: string;
}

/** A check, with `fix` left out when there is none (the JSON report has no `"fix": undefined`). */
export function check(fields: Check): Check {
  const { id, section, verdict, label, detail, fix } = fields;
  return fix === undefined
    ? { id, section, verdict, label, detail }
    : { id, section, verdict, label, detail, fix };
}

/** A check's four verdicts; warn and fail carry the fix. */
export interface Checker {
  pass(detail: string): Check;
  info(detail: string): Check;
  warn(detail: string, fix: string): Check;
  fail(detail: string, fix: string): Check;
}

/**
 * The one way to build a check: `checker('connection', 'tls.expiry', 'expiry').warn(detail, fix)`.
 * `check` (above) is what it builds with.
 */
export function checker(section: string, id: string, label: string): Checker {
  return {
    pass: (detail) => check({ section, id, label, verdict: 'pass', detail }),
    info: (detail) => check({ section, id, label, verdict: 'info', detail }),
    warn: (detail, fix) => check({ section, id, label, verdict: 'warn', detail, fix }),
    fail: (detail, fix) => check({ section, id, label, verdict: 'fail', detail, fix }),
  };
}

/**
 * An answer in a few words, the same wherever verify and the watcher show one:
 * `200 mdm-byod https://…`, `403 "message"`, `302 → https://…`, the status alone, or `no answer`.
 */
export function answerSummary(answer: {
  readonly status: number | null;
  readonly version?: string | undefined;
  readonly baseUrl?: string | undefined;
  readonly message?: string | undefined;
  readonly location?: string | undefined;
}): string {
  const { status, version, baseUrl, message, location } = answer;
  if (status === null) return 'no answer';
  if (location !== undefined) return `${status} → ${location}`;
  if (baseUrl !== undefined) return `${status} ${version} ${baseUrl}`;
  return message === undefined ? String(status) : `${status} "${message}"`;
}

/** A host with no address: nothing else can be asked. */
export function unresolved(host: string, error: string | undefined): Check {
  return checker('connection', 'dns', 'DNS').fail(
    `${host} does not resolve (${error})`,
    `publish an A or AAAA record for ${host}`,
  );
}

/** Apple's announced TLS requirements for device management (docs/protocol.md section 6, TLS). */
export const APPLE_TLS_NOTE = 'https://support.apple.com/en-us/126655';
