// Reading config and users files safely: regular files only, size-capped, never blocking on a FIFO.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { relative } from 'node:path';

/** A config file (JSON) larger than this is refused: 100,000 tenants take about 25 MiB. */
export const MAX_CONFIG_BYTES = 64 * 1024 * 1024;
/** A users file larger than this is refused: about two million addresses. */
export const MAX_USERS_FILE_BYTES = 64 * 1024 * 1024;
/**
 * Everything one load reads, the config's JSON files and its users files together, is refused past
 * this: a directory has no limit of its own on how many files it holds, and a reload must fit in
 * the reload worker's memory (config/reload.ts).
 */
export const MAX_CONFIG_TOTAL_BYTES = 128 * 1024 * 1024;

/** What one load has read so far, held against MAX_CONFIG_TOTAL_BYTES. */
export class ReadBudget {
  constructor(
    public used = 0,
    readonly limit = MAX_CONFIG_TOTAL_BYTES,
  ) {}
}

const mib = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;

/**
 * O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, freezing the reload
 * (or, synchronously, the whole event loop). Harmless for a regular file.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** Why a file was refused; `reason` completes "<file>: …". */
export class FileReadError extends Error {
  readonly code = 'MDM_FILE_UNREADABLE';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * The file an environment variable names (TLS_CERT_FILE, ADMIN_TOKEN_FILE), read as
 * readRegularFile does; the error reads `NAME=path: reason`.
 */
export function readSettingFile(name: string, path: string, maxBytes: number): string {
  try {
    return readRegularFile(path, maxBytes);
  } catch (error) {
    const reason = error instanceof FileReadError ? error.reason : String(error);
    throw new Error(`${name}=${path}: ${reason}`);
  }
}

/**
 * Reads a whole regular file as UTF-8, or throws FileReadError. The kind of file is checked with
 * fstat on the opened descriptor, so a rename between a check and the read cannot slip a FIFO or a
 * device in; at most `maxBytes` are read, whatever the size says (files in /proc report 0).
 * Synchronous: a capped read of a regular file is short, and loading stays all-or-nothing.
 */
export function readRegularFile(path: string, maxBytes: number, budget?: ReadBudget): string {
  // The budget's rest, where it is the tighter bound, words the refusal.
  const left = budget === undefined ? Infinity : budget.limit - budget.used;
  const cap = Math.min(maxBytes, left);
  const refusal = () =>
    cap < maxBytes && budget !== undefined
      ? new FileReadError(
          `brings the config past ${mib(budget.limit)} in all (its JSON and users files together; ${mib(budget.used)} were read before it); split the tenants across instances or shorten the users files`,
        )
      : tooLarge(maxBytes);
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    throw errnoError(error);
  }
  try {
    const stats = fstatSync(fd);
    checkKind(stats);
    if (stats.size > cap) throw refusal();
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, cap + 1 - total));
      const bytesRead = readSync(fd, chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > cap) throw refusal();
    }
    if (budget !== undefined) budget.used += total;
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (error) {
    throw error instanceof FileReadError ? error : errnoError(error);
  } finally {
    closeSync(fd);
  }
}

function checkKind(stats: Stats): void {
  if (!stats.isFile()) {
    const kind = stats.isDirectory()
      ? 'a directory'
      : stats.isFIFO()
        ? 'a FIFO'
        : stats.isCharacterDevice() || stats.isBlockDevice()
          ? 'a device'
          : stats.isSocket()
            ? 'a socket'
            : 'not a regular file';
    throw new FileReadError(`is ${kind}; give a regular file`);
  }
}

function tooLarge(maxBytes: number): FileReadError {
  return new FileReadError(`is larger than ${mib(maxBytes)}; split it or shorten it`);
}

function errnoError(error: unknown): FileReadError {
  const code = (error as NodeJS.ErrnoException).code;
  return new FileReadError(
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied; the service user must be able to read it'
        : `cannot be read (${code ?? String(error)})`,
  );
}

/** A path as messages show it: relative to the working directory when it lies below it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}
