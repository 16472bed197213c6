// Leftover placeholders from samples and templates: the most common cause of a broken discovery answer.
import { formatPath, type Position } from './json-positions.js';
import { type ConfigProblem, excerpt } from './problems.js';

const ANYWHERE: readonly RegExp[] = [
  /youraadtenantid/i, // Microsoft's sample BaseURL
  /<[^<>]*>/, // <tenant-guid>, <jamf-host>
  /\{\{[^{}]*\}\}/, // {{tenantId}} from a template engine
  /\$\{[^{}]*\}/, // ${TENANT_ID} never expanded
  /\bTODO\b/,
  /\bREPLACE[A-Z_-]*/,
  /\bCHANGEME\b/i,
];

/** Values that, standing alone (a whole value, a URL segment or a query value), are placeholders. */
const ALONE = new Set(['undefined', 'null', 'aadtenantid', 'tenantid', 'your-tenant-id', 'xxx']);

/**
 * Every placeholder above contains one of these (case aside): one test rules out nearly every
 * value of a large config before the patterns and the token split run.
 */
const MAY_HOLD = /[<{$]|todo|replace|changeme|undefined|null|tenantid|tenant-id|xxx/i;

/** The placeholder text found in a value, or undefined when there is none. */
export function findPlaceholder(value: string): string | undefined {
  return MAY_HOLD.test(value) ? searchPlaceholder(value) : undefined;
}

/** The full search, without the pre-check (the tests hold the two to the same answers). */
export function searchPlaceholder(value: string): string | undefined {
  for (const pattern of ANYWHERE) {
    const match = pattern.exec(value);
    if (match) return match[0];
  }
  for (const token of tokens(value)) {
    if (ALONE.has(token.toLowerCase())) return token;
  }
  return undefined;
}

/** The whole value, its URL path segments and query values (names are skipped: `aadTenantId=` is fine). */
function tokens(value: string): string[] {
  const out = [value];
  for (const part of value.split(/[/?&#]/)) {
    const eq = part.indexOf('=');
    out.push(eq === -1 ? part : part.slice(eq + 1));
  }
  return out;
}

export type Locate = (path: readonly PropertyKey[]) => Partial<Position>;

/** Free text shown to people may contain anything; every other string is checked. */
const FREE_TEXT = new Set(['message', 'description', '$schema']);

const PLACEHOLDER_FIX: Record<string, string> = {
  tenantId: 'your Microsoft Entra tenant ID (a GUID: Entra admin center > Overview > Tenant ID)',
  baseUrl: 'the BaseURL your MDM console shows',
  url: 'your MDM server address',
  domains: "the domain of your users' accounts",
  name: 'a short name for this organisation',
};

/** Every placeholder in `json`, whose own path in the file is `prefix`. */
export function placeholderProblems(
  json: unknown,
  file: string,
  at: Locate,
  prefix: readonly PropertyKey[] = [],
): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  // One path, pushed and popped as the walk goes: a million values are visited for 100,000
  // tenants, and a copy is made only for a value that holds a placeholder.
  const path: PropertyKey[] = [...prefix];
  const walk = (value: unknown) => {
    if (typeof value === 'string') {
      const placeholder = findPlaceholder(value);
      if (placeholder === undefined) return;
      const key = [...path].reverse().find((p) => typeof p === 'string') as string | undefined;
      const fix = PLACEHOLDER_FIX[key ?? ''] ?? 'the real value';
      found.push({
        severity: 'error',
        file,
        path: formatPath(path),
        ...at([...path]),
        message: `"${excerpt(value)}" still holds the placeholder "${excerpt(placeholder)}"; replace it with ${fix}`,
      });
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        walk(value[i]);
        path.pop();
      }
    } else if (value !== null && typeof value === 'object') {
      for (const key in value) {
        if (FREE_TEXT.has(key) || !Object.hasOwn(value, key)) continue;
        path.push(key);
        walk((value as Record<string, unknown>)[key]);
        path.pop();
      }
    }
  };
  walk(json);
  return found;
}
