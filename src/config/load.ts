// Loading a config from disk: a JSON file or a directory of them, read safely, hashed, then parsed.
import { createHash } from 'node:crypto';
import { readdirSync, type Stats, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config, ConfigDocument } from './model.js';
import { parseConfig } from './parse.js';
import { ConfigError } from './problems.js';
import {
  displayPath,
  FileReadError,
  MAX_CONFIG_BYTES,
  MAX_USERS_FILE_BYTES,
  ReadBudget,
  readRegularFile,
} from './read-file.js';

export type { Config, ConfigDocument, SourcedTenant } from './model.js';
export { type ParseOptions, parseConfig } from './parse.js';

/** The embedded demo config, used when MDM_DISCOVERY_CONFIG is not set. */
export const DEFAULT_CONFIG_PATH = fileURLToPath(
  new URL('../../config/default.json', import.meta.url),
);

/** How logs, `explain` and the status page name a config: its path, or the embedded demo config. */
export function configLabel(path: string): string {
  return path === DEFAULT_CONFIG_PATH ? '(embedded demo config)' : path;
}

export interface LoadOptions {
  /** The config being served: when no byte of any file it read has changed, it is returned as is. */
  readonly previous?: Config;
  /** Folders besides the config's own where users files may be (USERS_FILE_ROOTS). */
  readonly usersFileRoots?: readonly string[];
}

/** Reads a config file, or every `*.json` file of a directory (sorted; hidden entries skipped). */
export async function loadConfig(path: string, options: LoadOptions = {}): Promise<Config> {
  // One budget for every file this load reads (MAX_CONFIG_TOTAL_BYTES).
  const budget = new ReadBudget();
  const documents = await readConfigDocuments(path, budget);
  const digest = createHash('sha256');
  for (const d of documents) digest.update(d.file).update('\0').update(d.text).update('\0');
  const { previous } = options;
  if (
    previous?.digest !== undefined &&
    unchanged(digest.copy(), previous, new ReadBudget(budget.used))
  ) {
    return previous;
  }
  const root = documents.length === 1 && documents[0]?.path === path ? dirname(path) : path;
  const config = parseConfig(documents, {
    usersFileRoots: [root, ...(options.usersFileRoots ?? [])],
    readText: (file) => {
      const text = readRegularFile(file, MAX_USERS_FILE_BYTES, budget);
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
function unchanged(
  digest: ReturnType<typeof createHash>,
  previous: Config,
  budget: ReadBudget,
): boolean {
  try {
    for (const file of previous.userLists.keys()) {
      const text = readRegularFile(file, MAX_USERS_FILE_BYTES, budget);
      digest.update(file).update('\0').update(text);
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
export async function readConfigDocuments(
  path: string,
  budget = new ReadBudget(),
): Promise<ConfigDocument[]> {
  const display = displayPath(path);
  let info: Stats;
  try {
    info = statSync(path);
  } catch (error) {
    throw fileError(display, error);
  }
  if (!info.isDirectory()) {
    return [{ file: display, path, text: readText(path, display, budget) }];
  }
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
    text: readText(join(path, name), join(display, name), budget),
  }));
}

function readText(path: string, display: string, budget: ReadBudget): string {
  try {
    return readRegularFile(path, MAX_CONFIG_BYTES, budget);
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
