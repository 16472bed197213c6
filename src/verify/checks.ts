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

/** A host with no address: nothing else can be asked. */
export function unresolved(host: string, error: string | undefined): Check {
  return check({
    section: 'connection',
    id: 'dns',
    label: 'DNS',
    verdict: 'fail',
    detail: `${host} does not resolve (${error})`,
    fix: `publish an A or AAAA record for ${host}`,
  });
}

/** Apple's announced TLS requirements for device management (docs/protocol.md section 6, TLS). */
export const APPLE_TLS_NOTE = 'https://support.apple.com/en-us/126655';
