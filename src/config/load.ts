// Loading a config: a JSON file or a directory of them, parsed, checked as a whole, or refused with every problem.
import { createHash } from 'node:crypto';
import { readdirSync, type Stats, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { checkIntuneUrl, repeatedSuffix } from './checks.js';
import {
  formatPath,
  JsonSyntaxError,
  jsonPositions,
  offsetPosition,
  type Position,
} from './json-positions.js';
import { MAX_JSON_DEPTH, scanJson } from './json-scan.js';
import { findPlaceholder } from './placeholders.js';
import { INTUNE_PATH } from './presets.js';
import { ConfigError, type ConfigProblem, excerpt } from './problems.js';
import {
  FileReadError,
  MAX_CONFIG_BYTES,
  MAX_USERS_FILE_BYTES,
  readRegularFile,
} from './read-file.js';
import { ruleWarnings } from './rule-checks.js';
import { type Action, fileShapeSchema, type TenantConfig, tenantSchema } from './schema.js';
import { nearest } from './suggest.js';
import { parseUsersFile } from './users-file.js';

/** The embedded demo config, used when MDM_DISCOVERY_CONFIG is not set. */
export const DEFAULT_CONFIG_PATH = fileURLToPath(
  new URL('../../config/default.json', import.meta.url),
);

export interface SourcedTenant extends TenantConfig {
  /** The file and JSON path the tenant was read from, for messages that name it. */
  readonly source: { readonly file: string; readonly path: string };
}

export interface Config {
  readonly tenants: readonly SourcedTenant[];
  /** Host names of the service itself: the tenant comes from the user-identifier's domain. */
  readonly serviceHosts: readonly string[];
  /** Users files by resolved path (rules' `when.usersFile` holds that path after loading). */
  readonly userLists: ReadonlyMap<string, ReadonlySet<string>>;
  /** Problems that do not stop the config from being used. */
  readonly warnings: readonly ConfigProblem[];
  /** SHA-256 of every file read (config and users files), set by loadConfig: tells a real change from a touch. */
  readonly digest?: string;
}

export interface ConfigDocument {
  /** How messages name the file. */
  readonly file: string;
  readonly text: string;
  /** Where the file is, to resolve a users file relative to it; the working directory if absent. */
  readonly path?: string;
}

export interface ParseOptions {
  /** Reads a users file (synchronously: loading is all-or-nothing, never interleaved with requests). */
  readonly readText?: (path: string) => string;
  /**
   * Folders users files must be in (by their written path); any folder when absent. A config
   * must not make the service read, and quote in its errors, a file it has no business with.
   */
  readonly usersFileRoots?: readonly string[];
}

export interface LoadOptions {
  /** The config being served: when no byte of any file it read has changed, it is returned as is. */
  readonly previous?: Config;
  /** Folders besides the config's own where users files may be (USERS_FILE_ROOTS). */
  readonly usersFileRoots?: readonly string[];
}

/** Reads a config file, or every `*.json` file of a directory (sorted; hidden entries skipped). */
export async function loadConfig(path: string, options: LoadOptions = {}): Promise<Config> {
  const documents = await readConfigDocuments(path);
  const digest = createHash('sha256');
  for (const d of documents) digest.update(d.file).update('\0').update(d.text).update('\0');
  const { previous } = options;
  if (previous?.digest !== undefined && unchanged(digest.copy(), previous)) return previous;
  const root = documents.length === 1 && documents[0]?.path === path ? dirname(path) : path;
  const config = parseConfig(documents, {
    usersFileRoots: [root, ...(options.usersFileRoots ?? [])],
    readText: (file) => {
      const text = readRegularFile(file, MAX_USERS_FILE_BYTES);
      digest.update(file).update('\0').update(text).update('\0');
      return text;
    },
  });
  return { ...config, digest: digest.digest('hex') };
}

/**
 * Whether the users files of the config being served still hold what they held: the config files
 * are the same (the caller hashed them), so the same users files would be read. A touch, or a
 * ConfigMap update that changes nothing, then costs a read and a hash, not a parse of millions of
 * lines.
 */
function unchanged(digest: ReturnType<typeof createHash>, previous: Config): boolean {
  try {
    for (const file of previous.userLists.keys()) {
      digest.update(file).update('\0').update(readRegularFile(file, MAX_USERS_FILE_BYTES));
      digest.update('\0');
    }
  } catch {
    return false; // Let the full load say what is wrong.
  }
  return digest.digest('hex') === previous.digest;
}

/**
 * Synchronous, like the reads: a reload has no step that can wait for ever (a FIFO, a stalled
 * network mount's pending callback) and hold up the next reload or the shutdown.
 */
export async function readConfigDocuments(path: string): Promise<ConfigDocument[]> {
  const display = displayPath(path);
  let info: Stats;
  try {
    info = statSync(path);
  } catch (error) {
    throw fileError(display, error);
  }
  if (!info.isDirectory()) return [{ file: display, path, text: readText(path, display) }];
  // Hidden entries are skipped: a Kubernetes ConfigMap volume keeps its real files under ..data.
  let entries: string[];
  try {
    entries = readdirSync(path);
  } catch (error) {
    throw fileError(display, error);
  }
  const names = entries
    .filter((name) => name.endsWith('.json') && !name.startsWith('.') && name !== 'schema.json')
    .sort();
  if (names.length === 0) {
    throw new ConfigError([
      {
        severity: 'error',
        file: display,
        path: '(root)',
        message: 'the directory holds no *.json file',
      },
    ]);
  }
  return names.map((name) => ({
    file: join(display, name),
    path: join(path, name),
    text: readText(join(path, name), join(display, name)),
  }));
}

function readText(path: string, display: string): string {
  try {
    return readRegularFile(path, MAX_CONFIG_BYTES);
  } catch (error) {
    throw fileError(display, error);
  }
}

function fileError(display: string, error: unknown): ConfigError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    error instanceof FileReadError
      ? error.reason
      : code === 'ENOENT'
        ? 'no such file or directory'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied; the service user must be able to read it'
          : `cannot be read (${code ?? String(error)})`;
  const hint = reason.startsWith('no such file') ? '; check MDM_DISCOVERY_CONFIG' : '';
  return new ConfigError([
    { severity: 'error', file: display, path: '(root)', message: `${reason}${hint}` },
  ]);
}

function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
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
    const parsed = parseDocument(document, problems, positions);
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
): { tenants: TenantConfig[]; serviceHosts: string[] } {
  const { file } = document;
  // A byte order mark is harmless here; strip it rather than refuse the file.
  const text = document.text.charCodeAt(0) === 0xfeff ? document.text.slice(1) : document.text;
  // Before JSON.parse: the walks below recurse, and JSON.parse keeps the last of two equal keys.
  const scan = scanJson(text);
  if (scan.tooDeep !== undefined) {
    problems.push({
      severity: 'error',
      file,
      path: '(root)',
      ...offsetPosition(text, scan.tooDeep),
      message: `nested more than ${MAX_JSON_DEPTH} levels deep; a config needs fewer than 10`,
    });
    return { tenants: [], serviceHosts: [] };
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
  let json: unknown;
  try {
    json = JSON.parse(text);
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
  const tenants: TenantConfig[] = [];
  if (!shape.success) {
    report(shape.error.issues, []);
  } else {
    shape.data.tenants.forEach((raw, index) => {
      const tenant = tenantSchema.safeParse(raw, { reportInput: true });
      if (tenant.success) {
        if (!found.some((p) => p.path.startsWith(`tenants[${index}]`))) tenants.push(tenant.data);
      } else {
        report(tenant.error.issues, ['tenants', index]);
      }
    });
  }
  problems.push(...found);
  return { tenants, serviceHosts: shape.success ? (shape.data.serviceHosts ?? []) : [] };
}

/** Custom errors that a misspelt key already explains ("nowhere to enroll" after "intnue"). */
const FOLLOW_ON = new Set(['enroll-choice', 'action-choice', 'when-empty']);

/**
 * Drops errors that only follow from another: a key reported as required when a misspelling of it
 * was found ("domain" for "domains"), and "nowhere to enroll" when an unknown key is the cause.
 */
function relevant(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const unknown = new Map<string, string[]>();
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') unknown.set(formatPath(issue.path), issue.keys);
  }
  if (unknown.size === 0) return [...issues];
  return issues.filter((issue) => {
    const parent = formatPath(issue.path.slice(0, -1));
    const last = issue.path[issue.path.length - 1];
    if (issue.code === 'invalid_type' && issue.input === undefined && typeof last === 'string') {
      const typos = unknown.get(parent) ?? [];
      if (typos.some((typo) => nearest(typo, [last]) !== undefined)) return false;
    }
    if (issue.code === 'custom' && FOLLOW_ON.has(String(issue.params?.kind))) {
      return !unknown.has(formatPath(issue.path));
    }
    return true;
  });
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

type Locate = (path: readonly PropertyKey[]) => Partial<Position>;

/** Free text shown to people may contain anything; every other string is checked. */
const FREE_TEXT = new Set(['message', 'description', '$schema']);

const PLACEHOLDER_FIX: Record<string, string> = {
  tenantId: 'your Microsoft Entra tenant ID (a GUID: Entra admin center > Overview > Tenant ID)',
  baseUrl: 'the BaseURL your MDM console shows',
  url: 'your MDM server address',
  domains: "the domain of your users' accounts",
  name: 'a short name for this organisation',
};

function placeholderProblems(json: unknown, file: string, at: Locate): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  // One path, pushed and popped as the walk goes: a million values are visited for 100,000
  // tenants, and a copy is made only for a value that holds a placeholder.
  const path: PropertyKey[] = [];
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

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return 'is required';
    return `must be ${article(issue.expected)}, not ${describe(issue.input)}`;
  }
  if (issue.code === 'invalid_value') {
    const allowed = issue.values.map((v) => JSON.stringify(v)).join(', ');
    const strings = issue.values.filter((v): v is string => typeof v === 'string');
    const near = typeof issue.input === 'string' ? nearest(issue.input, strings) : undefined;
    return `${excerpt(JSON.stringify(issue.input) ?? '')} is not allowed; use ${near ? `"${near}"` : `one of ${allowed}`}`;
  }
  return issue.message;
}

function article(expected: string): string {
  return expected === 'array' || expected === 'object' ? `an ${expected}` : `a ${expected}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${excerpt(JSON.stringify(value) ?? '')}`;
}

/** Across all documents: tenant names and domains are unique. */
function crossCheck(
  tenants: readonly SourcedTenant[],
  serviceHosts: readonly { host: string; file: string; path: string }[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const names = new Map<string, SourcedTenant>();
  const domains = new Map<string, { tenant: SourcedTenant; path: string }>();
  for (const tenant of tenants) {
    const { file, path } = tenant.source;
    const sameName = names.get(tenant.name);
    if (sameName) {
      problems.push({
        severity: 'error',
        file,
        path: `${path}.name`,
        message: `"${tenant.name}" is also the name of ${where(sameName.source)}; tenant names must be unique`,
      });
    } else names.set(tenant.name, tenant);
    tenant.domains.forEach((domain, i) => {
      const domainPath = `${path}.domains[${i}]`;
      const first = domains.get(domain);
      if (!first) {
        domains.set(domain, { tenant, path: domainPath });
      } else if (first.tenant === tenant) {
        problems.push({
          severity: 'warning',
          file,
          path: domainPath,
          message: `"${domain}" is listed twice in this tenant`,
        });
      } else {
        problems.push({
          severity: 'error',
          file,
          path: domainPath,
          message: `"${domain}" is already served by tenant "${first.tenant.name}" (${where({ file: first.tenant.source.file, path: first.path })}); a domain belongs to one tenant`,
        });
      }
    });
  }
  for (const { host, file, path } of serviceHosts) {
    const tenant = domains.get(host)?.tenant;
    const message = host.startsWith('*.')
      ? `"${host}" is a wildcard; list the service's own host names exactly`
      : tenant
        ? `"${host}" is also a domain of tenant "${tenant.name}" (${where(tenant.source)}); a host is either the service's own or a tenant's`
        : undefined;
    if (message) problems.push({ severity: 'error', file, path, message });
  }
  return problems;
}

function where(source: { file: string; path: string }): string {
  return `${source.file} ${source.path}`;
}

/** Every action of a tenant with its JSON path: its own, then each rule's. */
function actionsOf(tenant: SourcedTenant): { action: Action; path: string }[] {
  return [
    { action: tenant.action, path: tenant.source.path },
    ...tenant.rules.map((rule, i) => ({
      action: rule.action,
      path: `${tenant.source.path}.rules[${i}]`,
    })),
  ];
}

/** Checks of meaning rather than shape; mostly warnings: legal but probably wrong. */
function semanticChecks(tenants: readonly SourcedTenant[]): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  for (const tenant of tenants) {
    const { file } = tenant.source;
    for (const { action, path } of actionsOf(tenant)) {
      if (action.kind !== 'enroll' && action.kind !== 'redirect') continue;
      const key = action.kind === 'enroll' ? 'enroll' : 'redirect';
      const url = new URL(action.kind === 'enroll' ? action.server.baseUrl : action.url);
      const doubled = repeatedSuffix(url.hostname);
      if (doubled) {
        found.push({
          severity: 'warning',
          file,
          path: `${path}.${key}`,
          message: `the host "${url.hostname}" repeats its last label; did you mean "${doubled}"?`,
        });
      }
      if (action.kind === 'enroll' && action.server.preset === 'custom') {
        found.push(
          ...intuneByHand(action.server.version, url, { file, path: `${path}.enroll.baseUrl` }),
        );
      }
    }
    for (const warning of ruleWarnings(tenant.rules)) {
      found.push({
        severity: 'warning',
        file,
        path: `${tenant.source.path}.rules[${warning.rule}]`,
        message: warning.message,
      });
    }
  }
  return found;
}

/** A hand-written Intune BaseURL gets the checks the intune preset makes impossible to fail. */
function intuneByHand(
  version: string,
  url: URL,
  at: { file: string; path: string },
): ConfigProblem[] {
  const facts = checkIntuneUrl(url);
  if (facts === undefined) return [];
  const found: ConfigProblem[] = [];
  const problem = (severity: 'error' | 'warning', message: string) =>
    found.push({ severity, ...at, message });
  if (facts.badPath !== undefined) {
    problem(
      'error',
      `Intune's enrollment path is ${INTUNE_PATH}, not ${facts.badPath}; or use the "intune" preset`,
    );
  }
  if (facts.badTenantId !== undefined) {
    problem(
      'error',
      `aadTenantId must be your Entra tenant ID (a GUID), not ${JSON.stringify(facts.badTenantId)}; or use the "intune" preset`,
    );
  }
  if (version !== 'mdm-byod') {
    problem('warning', 'Intune documents only "mdm-byod"; no Intune mdm-adde URL is published');
  }
  return found;
}
