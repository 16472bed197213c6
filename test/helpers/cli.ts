// Runs the real `mdm-discovery` entry point (TypeScript through tsx) as a child process.
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { run } from '../../src/cli/run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = fileURLToPath(new URL('../../src/cli/index.ts', import.meta.url));
// By absolute URL: `--import tsx` would be resolved from the child's working directory.
const TSX = pathToFileURL(
  createRequire(import.meta.url)
    .resolve('tsx/package.json')
    .replace(/package\.json$/, 'dist/loader.mjs'),
).href;

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function startCli(
  args: string[],
  env: Record<string, string> = {},
  cwd = ROOT,
  more: { uid?: number; gid?: number; nodeArgs?: string[] } = {},
): ChildProcess {
  const { nodeArgs = [], ...user } = more;
  return spawn(process.execPath, ['--import', TSX, ...nodeArgs, ENTRY, ...args], {
    cwd,
    ...user,
    // A clean environment: no MDM_DISCOVERY_CONFIG or PORT leaks in from the developer's shell.
    env: { PATH: process.env.PATH ?? '', LOG_FORMAT: 'json', ADMIN_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function runCli(
  args: string[],
  env: Record<string, string> = {},
  cwd = ROOT,
): Promise<Finished> {
  const child = startCli(args, env, cwd);
  return finished(child);
}

export function finished(child: ChildProcess): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Resolves with the URL the server logs once it listens. */
export function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (d: Buffer) => {
      seen += d.toString();
      const match = /Server listening at (http:\/\/[^"\s]+)/.exec(seen);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('close', (code) =>
      reject(new Error(`exited with ${code} before listening:\n${seen}`)),
    );
  });
}

/** Runs a command in this process, through the same dispatcher as the binary (faster than spawning). */
export async function cliInProcess(
  args: string[],
  env: Record<string, string> = {},
  options: { tty?: boolean } = {},
): Promise<{ code: number; out: string; err: string }> {
  const stdout = Object.assign(new PassThrough(), { isTTY: options.tty === true });
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const code = await run(args, { stdout, stderr }, env);
  return { code, out, err };
}
