// Parsing a config: each document alone, then all together; the config, or ConfigError with every problem.
import { dirname, join, resolve, sep } from 'node:path';
import type { z } from 'zod';
import { crossCheck, semanticChecks } from './cross-checks.js';
import { fastTenantParser } from './fast-tenant.js';
import { issueMessage, relevant } from './issues.js';
import {
  formatPath,
  JsonSyntaxError,
  jsonPositions,
  offsetPosition,
  type Position,
} from './json-positions.js';
import { MAX_JSON_DEPTH, scanJson } from './json-scan.js';
import type { Config, ConfigDocument, SourcedTenant } from './model.js';
import { placeholderProblems } from './placeholders.js';
import { ConfigError, type ConfigProblem, excerpt } from './problems.js';
import { displayPath, FileReadError, MAX_USERS_FILE_BYTES, readRegularFile } from './read-file.js';
import { fileShapeSchema, type TenantConfig, tenantSchema } from './schema.js';
import { parseUsersFile } from './users-file.js';

export interface ParseOptions {
  /** Reads a users file (synchronously: loading is all-or-nothing, never interleaved with requests). */
  readonly readText?: (path: string) => string;
  /**
   * Folders users files must be in (by their written path); any folder when absent. A config
   * must not make the service read, and quote in its errors, a file it has no business with.
   */
  readonly usersFileRoots?: readonly string[];
  /**
   * False: one JSON.parse of each whole document and zod for every tenant, the plain way the
   * fast paths must agree with (test/config/fast-tenant.test.ts). True when absent.
   */
  readonly fastPaths?: boolean;
}

/**
 * Validates documents together (each alone, then across them: names and domains are unique)
 * and returns the config, or throws ConfigError with every error and warning found.
 */
export function parseConfig(
  documents: readonly ConfigDocument[],
  options: ParseOptions = {},
): Config {
  const readText =
    options.readText ?? ((path: string) => readRegularFile(path, MAX_USERS_FILE_BYTES));
  const roots = options.usersFileRoots?.map((root) => resolve(root));
  const problems: ConfigProblem[] = [];
  const tenants: SourcedTenant[] = [];
  const serviceHosts: { host: string; file: string; path: string }[] = [];
  const userLists = new Map<string, ReadonlySet<string>>();
  const positions = new Map<string, () => Map<string, Position>>();
  for (const document of documents) {
    const parsed = parseDocument(document, problems, positions, options.fastPaths !== false);
    parsed.serviceHosts.forEach((host, i) => {
      serviceHosts.push({ host, file: document.file, path: `serviceHosts[${i}]` });
    });
    parsed.tenants.forEach((tenant, index) => {
      const source = { file: document.file, path: `tenants[${index}]` };
      const rules = tenant.rules.map((rule, r) => {
        const usersFile = rule.when.usersFile;
        if (usersFile === undefined) return rule;
        const at = { file: document.file, path: `${source.path}.rules[${r}].when.usersFile` };
        const resolved = resolve(
          dirname(document.path ?? join(process.cwd(), 'config.json')),
          usersFile,
        );
        const outside = roots && !roots.some((root) => isInside(resolved, root));
        if (outside) {
          problems.push({
            severity: 'error',
            ...at,
            message: `"${excerpt(usersFile)}" is outside the config's folder (${roots[0]}); move it there, or list its folder in USERS_FILE_ROOTS`,
          });
        } else if (!userLists.has(resolved)) {
          const list = readUsersFile(resolved, usersFile, at, readText, problems);
          if (list) userLists.set(resolved, list);
        }
        return { ...rule, when: { ...rule.when, usersFile: resolved } };
      });
      tenants.push({ ...tenant, rules, source });
    });
  }
  if (problems.length === 0 && tenants.length === 0) {
    problems.push({
      severity: 'error',
      file: documents[0]?.file ?? '(config)',
      path: 'tenants',
      message: 'no tenant is configured; add one (see config/examples/)',
    });
  }
  problems.push(...crossCheck(tenants, serviceHosts), ...semanticChecks(tenants));
  // Checks across tenants and of users files know paths, not places: find each path's line.
  const placed = problems.map((problem) => {
    if (problem.line !== undefined) return problem;
    const place = positions.get(problem.file)?.().get(problem.path);
    return place ? { ...problem, ...place } : problem;
  });
  placed.sort(byPlace);
  if (placed.some((p) => p.severity === 'error')) throw new ConfigError(placed);
  return { tenants, serviceHosts: serviceHosts.map((s) => s.host), userLists, warnings: placed };
}

/**
 * Whether a resolved path lies under a folder, by its written path: `..` cannot leave the folder.
 * Links inside the folder are followed as they are (a Kubernetes ConfigMap volume is made of
 * them); whoever can place a link there can write the config itself.
 */
function isInside(file: string, root: string): boolean {
  return file.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

function readUsersFile(
  resolved: string,
  written: string,
  at: { file: string; path: string },
  readText: (path: string) => string,
  problems: ConfigProblem[],
): ReadonlySet<string> | undefined {
  let text: string;
  try {
    text = readText(resolved);
  } catch (error) {
    const reason =
      error instanceof FileReadError ? error.reason : `cannot be read (${String(error)})`;
    problems.push({
      severity: 'error',
      ...at,
      message: reason.startsWith('no such file')
        ? `"${excerpt(written)}" cannot be read (no such file; looked for ${resolved}); the path is relative to the config file`
        : `"${excerpt(written)}" ${reason}`,
    });
    return undefined;
  }
  const parsed = parseUsersFile(text);
  const display = displayPath(resolved);
  for (const bad of parsed.problems) {
    problems.push({
      severity: 'error',
      file: display,
      path: at.path,
      line: bad.line,
      column: 1,
      message: bad.message,
    });
  }
  if (parsed.badLines > parsed.problems.length) {
    problems.push({
      severity: 'error',
      file: display,
      path: at.path,
      message: `${parsed.badLines - parsed.problems.length} more lines are not user-identifiers`,
    });
  }
  return parsed.badLines === 0 ? parsed.users : undefined;
}

function parseDocument(
  document: ConfigDocument,
  problems: ConfigProblem[],
  positionsByFile: Map<string, () => Map<string, Position>>,
  fastPaths: boolean,
): { tenants: TenantConfig[]; serviceHosts: string[] } {
  const { file } = document;
  // A byte order mark is harmless here; strip it rather than refuse the file.
  const text = document.text.charCodeAt(0) === 0xfeff ? document.text.slice(1) : document.text;
  // Before JSON.parse: the walks below recurse, and JSON.parse keeps the last of two equal keys.
  const scan = scanJson(text);
  if (!scanned(file, text, scan, problems)) return { tenants: [], serviceHosts: [] };
  // A tenants array of bracketed items is parsed item by item, each let go once validated: the
  // raw form of 100,000 tenants is never in memory at once (docs/PERFORMANCE.md). The text between
  // items must be a comma, so that the pieces parse exactly when the whole would.
  const items = fastPaths && scan.duplicates.length === 0 ? scan.tenants : undefined;
  let json: unknown;
  try {
    if (items !== undefined && !separatedByCommas(text, items)) throw new SyntaxError();
    json = JSON.parse(
      items === undefined
        ? text
        : `${text.slice(0, items[0]?.start)}${text.slice(items[items.length - 1]?.end)}`,
    );
  } catch {
    // Only now the scanner: it says where (V8's messages carry no position on Node 20).
    problems.push(syntaxProblem(file, text, syntaxErrorOf(text)));
    return { tenants: [], serviceHosts: [] };
  }
  // Line numbers are only needed for problems: the map of every value's place (a million
  // entries for 100,000 tenants) is built on the first problem, not for every load.
  let positions: Map<string, Position> | undefined;
  const located = () => {
    positions ??= jsonPositions(text);
    return positions;
  };
  positionsByFile.set(file, located);
  const at = (path: readonly PropertyKey[]) => positionOf(located(), path);
  const found: ConfigProblem[] = placeholderProblems(json, file, at);
  const claimed = new Set(found.map((p) => p.path));
  const report = (issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[]) => {
    for (const issue of relevant(issues)) {
      const path = [...prefix, ...issue.path];
      const key = formatPath(path);
      if (claimed.has(key)) continue; // one message per field: the placeholder says more
      found.push({ severity: 'error', file, path: key, ...at(path), message: issueMessage(issue) });
    }
  };
  const shape = fileShapeSchema.safeParse(json, { reportInput: true });
  if (!shape.success) {
    report(shape.error.issues, []);
    problems.push(...found);
    return { tenants: [], serviceHosts: [] };
  }
  const tenants = readTenants({
    file,
    text,
    items,
    raws: shape.data.tenants,
    parsed: (json as { tenants: unknown[] }).tenants,
    fast: fastPaths ? fastTenantParser() : () => undefined,
    found,
    claimed,
    at,
    report,
  });
  if (tenants === undefined) {
    problems.push(syntaxProblem(file, text, syntaxErrorOf(text)));
    return { tenants: [], serviceHosts: [] };
  }
  problems.push(...found);
  return { tenants, serviceHosts: shape.data.serviceHosts ?? [] };
}

/** The scan's own problems (too deep, a key given twice); false when nothing more can be read. */
function scanned(
  file: string,
  text: string,
  scan: ReturnType<typeof scanJson>,
  problems: ConfigProblem[],
): boolean {
  if (scan.tooDeep !== undefined) {
    problems.push({
      severity: 'error',
      file,
      path: '(root)',
      ...offsetPosition(text, scan.tooDeep),
      message: `nested more than ${MAX_JSON_DEPTH} levels deep; a config needs fewer than 10`,
    });
    return false;
  }
  for (const duplicate of scan.duplicates) {
    const first = offsetPosition(text, duplicate.first);
    problems.push({
      severity: 'error',
      file,
      path: formatPath(duplicate.path),
      ...offsetPosition(text, duplicate.repeated),
      message: `the key is given twice (first at line ${first.line}, column ${first.column}); JSON keeps only the last, so remove one`,
    });
  }
  return true;
}

/**
 * The tenants of one file, each read (from its own slice of the text when `items` are given, or
 * from the parsed document), checked for placeholders, and validated: the common shapes without
 * zod, zod for the rest and for every message (fast-tenant.ts). Undefined when a slice does not
 * parse (a syntax error the caller reports).
 */
function readTenants(input: {
  file: string;
  text: string;
  items: readonly { readonly start: number; readonly end: number }[] | undefined;
  raws: unknown[];
  parsed: unknown[];
  fast: (raw: unknown) => TenantConfig | undefined;
  found: ConfigProblem[];
  claimed: Set<string>;
  at: (path: readonly PropertyKey[]) => Partial<Position>;
  report: (issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[]) => void;
}): TenantConfig[] | undefined {
  const { file, text, items, raws, parsed, fast, found, claimed, at, report } = input;
  const count = items?.length ?? raws.length;
  // A tenant holding a placeholder is reported, not served: the walk of the whole document
  // found those already, or the walk of each tenant below does.
  const withPlaceholder = new Set(found.map((p) => tenantIndexOf(p.path)));
  const tenants: TenantConfig[] = [];
  for (let index = 0; index < count; index++) {
    let raw: unknown;
    if (items === undefined) {
      // Let go of each raw tenant once read (from the parsed document too).
      raw = raws[index];
      raws[index] = undefined;
      parsed[index] = undefined;
    } else {
      const item = items[index] as { start: number; end: number };
      try {
        raw = JSON.parse(text.slice(item.start, item.end));
      } catch {
        return undefined;
      }
      for (const problem of placeholderProblems(raw, file, at, ['tenants', index])) {
        found.push(problem);
        claimed.add(problem.path);
        withPlaceholder.add(index);
      }
    }
    const quick = fast(raw);
    const tenant = quick
      ? { success: true as const, data: quick }
      : tenantSchema.safeParse(raw, { reportInput: true });
    if (tenant.success) {
      if (!withPlaceholder.has(index)) tenants.push(tenant.data);
    } else {
      report(tenant.error.issues, ['tenants', index]);
    }
  }
  return tenants;
}

/** Whether only a comma (and white space) lies between consecutive items. */
function separatedByCommas(
  text: string,
  items: readonly { readonly start: number; readonly end: number }[],
): boolean {
  for (let i = 1; i < items.length; i++) {
    const between = text.slice(
      (items[i - 1] as { end: number }).end,
      (items[i] as { start: number }).start,
    );
    if (!/^[ \t\r\n]*,[ \t\r\n]*$/.test(between)) return false;
  }
  return true;
}

/** The tenant index a problem's path starts with (`tenants[3].domains[0]` is 3). */
function tenantIndexOf(path: string): number | undefined {
  const match = /^tenants\[(\d+)\]/.exec(path);
  return match ? Number(match[1]) : undefined;
}

/** The scanner's error for text that JSON.parse refused. */
function syntaxErrorOf(text: string): JsonSyntaxError {
  try {
    jsonPositions(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) return error;
    throw error;
  }
  // Both parsers follow the JSON grammar; should they ever disagree, say so at the start.
  return new JsonSyntaxError(0, 'not accepted by JSON.parse');
}

function syntaxProblem(file: string, text: string, error: JsonSyntaxError): ConfigProblem {
  const next = text.slice(error.offset);
  const before = text.slice(0, error.offset).trimEnd();
  const hint =
    next.startsWith('//') || next.startsWith('/*') || next.startsWith('#')
      ? 'JSON does not allow comments; remove them'
      : before.endsWith(',') && /^\s*[}\]]/.test(next)
        ? 'remove the trailing comma'
        : next.startsWith("'")
          ? 'JSON strings and keys need double quotes'
          : 'fix the JSON syntax';
  return {
    severity: 'error',
    file,
    path: '(root)',
    ...offsetPosition(text, error.offset),
    message: `not valid JSON: ${error.reason}; ${hint}`,
  };
}

function byPlace(a: ConfigProblem, b: ConfigProblem): number {
  return (
    a.file.localeCompare(b.file) ||
    (a.line ?? 0) - (b.line ?? 0) ||
    (a.column ?? 0) - (b.column ?? 0)
  );
}

function positionOf(
  positions: Map<string, Position>,
  path: readonly PropertyKey[],
): Partial<Position> {
  // A missing key has no position of its own: point at the nearest enclosing value.
  for (let end = path.length; end >= 0; end--) {
    const found = positions.get(formatPath(path.slice(0, end)));
    if (found) return found;
  }
  return {};
}
