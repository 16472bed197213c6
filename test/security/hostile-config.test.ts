// Hostile config and users files against the real server, in a child process: nothing it reads
// may crash it, freeze it, or leak through its errors, and the last good config keeps serving.
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { MAX_REPORTED_PROBLEMS } from '../../src/config/problems.js';
import { WELL_KNOWN_PATH as WELL_KNOWN } from '../../src/protocol.js';
import { listening, runCli, startCli } from '../helpers/cli.js';
import { startCaptured } from '../helpers/server.js';

const GOOD = 'https://a.example/enroll';
const NEXT = 'https://b.example/enroll';
const KEY = 'never-in-a-log-0123456789abcdef';

const tenant = (baseUrl: string, rules: object[] = []) =>
  JSON.stringify({
    tenants: [
      {
        name: 'contoso',
        domains: ['contoso.example'],
        enroll: { version: 'mdm-byod', baseUrl },
        rules,
      },
    ],
  });
const usersRule = (usersFile: string) => [
  { name: 'cohort', when: { usersFile }, enroll: { version: 'mdm-adde', baseUrl: NEXT } },
];
const body = (baseUrl: string) => `{"Servers":[{"Version":"mdm-byod","BaseURL":"${baseUrl}"}]}`;

let dir: string;
let child: ChildProcess | undefined;
let out = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mdm-hostile-'));
  chmodSync(dir, 0o755);
  out = '';
});
afterEach(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await new Promise((resolve) => child?.once('close', resolve));
  }
  child = undefined;
  chmodSync(dir, 0o755);
  rmSync(dir, { recursive: true, force: true });
});

/** `mdm-discovery serve` in a child process; as nobody when the tests run as root (see EACCES). */
async function serve(
  config: string,
  env: Record<string, string> = {},
  asNobody = false,
  nodeArgs: string[] = [],
) {
  const user = asNobody && process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  child = startCli(
    ['serve', '--config', config],
    {
      PORT: '0',
      WATCH_CONFIG: 'false',
      LOG_HASH_KEY: KEY,
      LOG_LEVEL: 'info',
      RATE_LIMIT_PER_MINUTE: '0',
      SHUTDOWN_GRACE_MS: '2000',
      ...env,
    },
    undefined,
    { ...user, nodeArgs },
  );
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = await listening(child);
  // Signal handlers are in place once the start-up line is out (a SIGHUP before would end it).
  await eventually(() => out.includes('"msg":"config loaded"'), 'the start-up line');
  return url;
}

/** The admin listener's URL, from the start-up line. */
function adminUrl(): string {
  const line = out.split('\n').find((l) => l.includes('"msg":"config loaded"')) ?? '{}';
  return (JSON.parse(line) as { admin: string }).admin;
}

async function ask(url: string) {
  const res = await request(`${url}${WELL_KNOWN}`, { headers: { host: 'contoso.example' } });
  return { status: res.statusCode, body: await res.body.text() };
}

async function eventually(check: () => boolean, what: string, ms = 10_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not seen in ${ms} ms: ${what}\n${out}`);
}

/** The messages of the log lines so far, one a line (JSON escapes undone). */
function messages(): string {
  return out
    .split('\n')
    .map((line) => {
      try {
        return (JSON.parse(line) as { msg?: string }).msg ?? line;
      } catch {
        return line;
      }
    })
    .join('\n');
}

function refusals(): number {
  return out.split('config reload refused').length - 1;
}

/** Sends SIGHUP and waits for the reload's verdict: refused, or the new generation. */
async function reload(expect: 'refused' | number) {
  const before = refusals();
  child?.kill('SIGHUP');
  if (expect === 'refused') await eventually(() => refusals() > before, 'a refused reload');
  else await eventually(() => out.includes(`"generation":${expect}`), `generation ${expect}`);
}

async function stops(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  const running = child as ChildProcess;
  const closed = new Promise<number | null>((resolve) => running.once('close', resolve));
  running.kill(signal);
  return closed;
}

function deep(levels: number): string {
  return `{"tenants":${'['.repeat(levels)}${']'.repeat(levels)}}`;
}

describe('a config nested 6,000 levels deep', () => {
  it('is refused on reload by the file watcher; the server keeps serving', async () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, tenant(GOOD));
    const url = await serve(file, { WATCH_CONFIG: 'true', RELOAD_DEBOUNCE_MS: '50' });
    writeFileSync(file, deep(6000));
    await eventually(() => refusals() > 0, 'a refused reload');
    expect(messages()).toContain('config.json:1:75 (root): nested more than 64 levels deep');
    expect(await ask(url)).toEqual({ status: 200, body: body(GOOD) });
    expect(child?.exitCode).toBeNull();
  }, 30_000);

  it('is refused at start-up, by validate and by explain, with the file and line and no stack', async () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, deep(6000));
    for (const args of [
      ['serve', '--config', file],
      ['validate', file],
      ['explain', '--config', file, '--host', 'contoso.example'],
    ]) {
      const done = await runCli(args, { ADMIN_PORT: 'off', PORT: '0' });
      expect(done.code).toBe(1);
      expect(done.stderr).toContain(
        `${file}:1:75 (root): nested more than 64 levels deep; a config needs fewer than 10`,
      );
      expect(done.stderr).not.toMatch(/RangeError|\n\s+at /);
    }
  }, 30_000);
});

/**
 * Root reads any folder, so the server runs as nobody there; where nobody cannot run this Node
 * (CI's second leg runs a Node from root's npm cache), the case is left to the first leg.
 */
const unreadableFoldersWork =
  process.getuid?.() !== 0 ||
  spawnSync(process.execPath, ['-e', '0'], { uid: 65534, gid: 65534 }).status === 0;

describe('a config directory that cannot be listed', () => {
  it.runIf(unreadableFoldersWork)(
    'is refused on SIGHUP; the server keeps serving',
    async () => {
      const folder = join(dir, 'conf.d');
      execFileSync('mkdir', ['-m', '755', folder]);
      writeFileSync(join(folder, 'a.json'), tenant(GOOD));
      chmodSync(join(folder, 'a.json'), 0o644);
      const url = await serve(folder, {}, true);
      // Search permission without read: stat works, readdir fails with EACCES.
      chmodSync(folder, 0o311);
      await reload('refused');
      expect(messages()).toContain(
        'conf.d (root): permission denied; the service user must be able to read it',
      );
      expect(await ask(url)).toEqual({ status: 200, body: body(GOOD) });
      chmodSync(folder, 0o755);
      writeFileSync(join(folder, 'a.json'), tenant(NEXT));
      await reload(2);
      expect(await ask(url)).toEqual({ status: 200, body: body(NEXT) });
    },
    30_000,
  );
});

describe('users files and config entries that are not regular files', () => {
  it('refuses /dev/zero as a users file at once, even where its folder is allowed', async () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, tenant(GOOD));
    const url = await serve(file, { USERS_FILE_ROOTS: '/dev' });
    writeFileSync(file, tenant(NEXT, usersRule('/dev/zero')));
    await reload('refused');
    expect(messages()).toContain('"/dev/zero" is a device; give a regular file');
    expect(await ask(url)).toEqual({ status: 200, body: body(GOOD) });
    const done = await runCli(['validate', file], { USERS_FILE_ROOTS: '/dev' });
    expect(done.code).toBe(1);
    expect(done.stderr).toContain('"/dev/zero" is a device; give a regular file');
  }, 30_000);

  it('refuses a FIFO as a users file and as a *.json, never waits for a writer, and stops on SIGTERM', async () => {
    const folder = join(dir, 'conf.d');
    execFileSync('mkdir', ['-m', '755', folder]);
    writeFileSync(join(folder, 'a.json'), tenant(GOOD));
    const url = await serve(folder);
    execFileSync('mkfifo', [join(folder, 'cohort.txt'), join(folder, 'b.json')]);
    writeFileSync(join(folder, 'a.json'), tenant(NEXT, usersRule('cohort.txt')));
    await reload('refused');
    expect(messages()).toContain(
      `${join(folder, 'b.json')} (root): is a FIFO; give a regular file`,
    );
    expect(await ask(url)).toEqual({ status: 200, body: body(GOOD) });
    unlinkSync(join(folder, 'b.json'));
    await reload('refused');
    expect(messages()).toContain('"cohort.txt" is a FIFO; give a regular file');
    // Once the FIFO is gone, the next reload applies.
    unlinkSync(join(folder, 'cohort.txt'));
    writeFileSync(join(folder, 'cohort.txt'), 'ann@contoso.example\n');
    await reload(2);
    expect(await ask(url)).toEqual({ status: 200, body: body(NEXT) });
    expect(await stops()).toBe(0);
  }, 30_000);
});

describe('users files outside the config folder', () => {
  it.each([
    ['/proc/self/environ', 'the environment'],
    ['../../../../../../etc/passwd', 'passwd'],
  ])(
    '%s is refused without reading it (%s)',
    async (path) => {
      const file = join(dir, 'config.json');
      writeFileSync(file, tenant(GOOD));
      const url = await serve(file);
      writeFileSync(file, tenant(NEXT, usersRule(path)));
      await reload('refused');
      expect(messages()).toContain(
        `"${path}" is outside the config's folder (${dir}); move it there, or list its folder in USERS_FILE_ROOTS`,
      );
      expect(out).not.toContain(KEY);
      expect(out).not.toContain('root:x:0:0');
      expect(out).not.toContain('PATH=');
      expect(await ask(url)).toEqual({ status: 200, body: body(GOOD) });
    },
    30_000,
  );

  it("reads one through a ConfigMap's links inside the config folder", async () => {
    mkdirSync(join(dir, '..2026_11_30'));
    writeFileSync(join(dir, '..2026_11_30', 'cohort.txt'), 'ann@contoso.example\n');
    symlinkSync('..2026_11_30', join(dir, '..data'));
    symlinkSync(join('..data', 'cohort.txt'), join(dir, 'cohort.txt'));
    const file = join(dir, 'config.json');
    writeFileSync(file, tenant(GOOD, usersRule('cohort.txt')));
    const config = await loadConfig(file);
    expect(config.userLists.get(join(dir, 'cohort.txt'))?.has('ann@contoso.example')).toBe(true);
  });

  it('reads one where USERS_FILE_ROOTS allows its folder', async () => {
    const lists = mkdtempSync(join(tmpdir(), 'mdm-lists-'));
    try {
      writeFileSync(join(lists, 'cohort.txt'), 'ann@contoso.example\n');
      const file = join(dir, 'config.json');
      writeFileSync(file, tenant(GOOD, usersRule(join(lists, 'cohort.txt'))));
      await expect(loadConfig(file)).rejects.toThrow(/is outside the config's folder/);
      const config = await loadConfig(file, { usersFileRoots: [lists] });
      expect([...config.userLists.keys()]).toEqual([join(lists, 'cohort.txt')]);
    } finally {
      rmSync(lists, { recursive: true, force: true });
    }
  });
});

describe('work a reload does not need', () => {
  it('does not parse again when no byte changed (a touch, a ConfigMap update to the same data)', async () => {
    const file = join(dir, 'config.json');
    const users = Array.from({ length: 50_000 }, (_, i) => `user${i}@contoso.example`).join('\n');
    writeFileSync(join(dir, 'cohort.txt'), users);
    writeFileSync(file, tenant(GOOD, usersRule('cohort.txt')));
    const first = await loadConfig(file);
    // The same bytes written again: the very same config object comes back, not a new parse.
    writeFileSync(join(dir, 'cohort.txt'), users);
    expect(await loadConfig(file, { previous: first })).toBe(first);
    writeFileSync(join(dir, 'cohort.txt'), `${users}\nnew@contoso.example`);
    const next = await loadConfig(file, { previous: first });
    expect(next).not.toBe(first);
    expect(next.userLists.get(join(dir, 'cohort.txt'))?.has('new@contoso.example')).toBe(true);
  });

  it('logs at most 50 problems of a config with 40,000, and a count of the rest', async () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, tenant(GOOD));
    const server = await startCaptured(file, { WATCH_CONFIG: 'false' });
    try {
      const tenants = Array.from({ length: 40_000 }, (_, i) => ({
        name: `t${i}`,
        domains: [`BAD DOMAIN ${i}`],
        enroll: { version: 'mdm-byod', baseUrl: GOOD },
      }));
      writeFileSync(file, JSON.stringify({ tenants }));
      expect(await server.reload('test')).toBe(false);
      const lines = server.logs().trim().split('\n');
      const errors = lines.filter((l) => l.includes('"level":50'));
      expect(errors).toHaveLength(MAX_REPORTED_PROBLEMS + 2);
      expect(errors.at(-2)).toContain(
        `… and ${40_000 - MAX_REPORTED_PROBLEMS} more problems (${40_000 - MAX_REPORTED_PROBLEMS} errors) not shown; fix these first`,
      );
    } finally {
      await server.close();
    }
  }, 60_000);
});

/** A config of `count` Intune tenants (about 160 bytes each), as one JSON text. */
function manyTenants(count: number): string {
  const tenants = [];
  for (let i = 0; i < count; i++) {
    tenants.push({
      name: `t${i}`,
      domains: [`d${i}.example`, `*.d${i}.example`],
      enroll: {
        intune: {
          cloud: 'commercial',
          tenantId: `6f0c8a5e-6f2b-4c61-9a0e-${String(i).padStart(12, '0')}`,
        },
      },
    });
  }
  return JSON.stringify({ tenants });
}

describe('a reload too large for the reload worker', () => {
  it('is refused when the worker runs out of memory: the old config serves, a later good one loads', async () => {
    const folder = join(dir, 'conf.d');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a.json'), tenant(GOOD));
    // A small heap for the whole process (V8's flag bounds the worker too); 200,000 tenants
    // (32 MB) need more than it holds.
    const url = await serve(folder, { ADMIN_PORT: '0' }, false, ['--max-old-space-size=128']);
    writeFileSync(join(folder, 'b.json'), manyTenants(200_000));
    const before = refusals();
    child?.kill('SIGHUP');
    // Asked all along: answered every time, by the config that was good.
    const answers: number[] = [];
    while (refusals() === before && answers.length < 400) {
      answers.push((await ask(url)).status);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(refusals()).toBe(before + 1);
    expect(answers.every((s) => s === 200)).toBe(true);
    expect(out).toContain(
      '"message":"the reload worker ran out of memory: the config is too large to load; shorten it, or give the process more memory',
    );
    expect(messages()).not.toContain('reloading on the serving thread');
    expect(await ask(url)).toEqual({ status: 200, body: body(GOOD) });
    expect(child?.exitCode).toBeNull();
    // The refusal is counted.
    const metrics = await request(`${adminUrl()}/metrics`);
    expect(await metrics.body.text()).toMatch(/^mdm_discovery_config_reload_failures_total 1$/m);
    // A good config after it loads as usual, in a worker.
    unlinkSync(join(folder, 'b.json'));
    writeFileSync(join(folder, 'a.json'), tenant(NEXT));
    await reload(2);
    expect(out).toContain('"thread":"worker"');
    expect(await ask(url)).toEqual({ status: 200, body: body(NEXT) });
  }, 60_000);
});

describe('a config directory past the total size', () => {
  it('is refused on reload and by validate, naming the file, the size and the limit', async () => {
    const folder = join(dir, 'conf.d');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a.json'), tenant(GOOD));
    const url = await serve(folder);
    // Three files of 50 MiB each (sparse: no disk is used), each under the 64 MiB of one file.
    for (const name of ['b.json', 'c.json', 'd.json']) {
      writeFileSync(join(folder, name), '');
      truncateSync(join(folder, name), 50 * 1024 * 1024);
    }
    await reload('refused');
    const refusal =
      'd.json (root): brings the config past 128 MiB in all (its JSON and users files together; 100 MiB were read before it); split the tenants across instances or shorten the users files';
    expect(messages()).toContain(refusal);
    expect(await ask(url)).toEqual({ status: 200, body: body(GOOD) });
    const done = await runCli(['validate', folder]);
    expect(done.code).toBe(1);
    expect(done.stderr).toContain(refusal);
  }, 30_000);
});
