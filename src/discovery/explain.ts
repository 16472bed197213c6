// explain: which tenant and rule decide a request, each condition's result, and the exact answer. Pure.
import { WELL_KNOWN_PATH } from '../protocol.js';
import { type DecideTrace, decide } from './decide.js';
import type { RoutingTable } from './table.js';

export interface Explanation {
  readonly config: string;
  readonly request: {
    readonly host: string;
    readonly userIdentifier: string | null;
    readonly modelFamily: string | null;
    readonly path: string;
  };
  readonly tenant: string | null;
  readonly tenantBy: string | null;
  readonly rule: string | null;
  readonly outcome: string;
  readonly rules: DecideTrace['rules'];
  readonly response: {
    readonly status: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: string;
  };
}

/** The request a device would send (user-identifier and model-family as given), explained. */
export function explainRequest(
  table: RoutingTable,
  config: string,
  host: string,
  user: string | undefined,
  modelFamily: string | undefined,
): Explanation {
  const search = [
    user === undefined ? undefined : `user-identifier=${encodeURIComponent(user)}`,
    modelFamily === undefined ? undefined : `model-family=${encodeURIComponent(modelFamily)}`,
  ]
    .filter(Boolean)
    .join('&');
  const trace: DecideTrace = { rules: [] };
  const decision = decide(table, { host, search }, trace);
  return {
    config,
    request: {
      host,
      userIdentifier: user ?? null,
      modelFamily: modelFamily ?? null,
      path: search === '' ? WELL_KNOWN_PATH : `${WELL_KNOWN_PATH}?${search}`,
    },
    tenant: decision.tenant ?? null,
    tenantBy: decision.tenant === undefined ? null : (trace.tenantBy ?? null),
    rule: decision.rule ?? null,
    outcome: decision.outcome,
    rules: trace.rules,
    response: {
      status: decision.response.status,
      headers: decision.response.headers,
      body: decision.response.body,
    },
  };
}
