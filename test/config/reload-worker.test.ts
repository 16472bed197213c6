import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileConfig, tableBuilder } from '../../src/config/compile.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/problems.js';
import {
  ReloadWorkerFailed,
  reloadInWorker,
  WorkerUnavailable,
  workerHeapMb,
} from '../../src/config/reload.js';
import { decide } from '../../src/discovery/decide.js';
import { deviceQuery } from '../../src/discovery/query.js';
import { securityHeaders } from '../../src/http/security-headers.js';

const GUID = '6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a';
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mdm-worker-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** 1,200 tenants sharing two rules (so parts of 500 share them across messages), a users file, a warning. */
async function writeConfig(): Promise<string> {
  await writeFile(
    join(dir, 'cohort.txt'),
    Array.from({ length: 12_000 }, (_, i) => `user${i}@big.example`).join('\n'),
  );
  const tenants = Array.from({ length: 1200 }, (_, i) => ({
    name: `t${i}`,
    domains: [`t${i}.example`, `*.t${i}.example`],
    enroll: { intune: { tenantId: GUID } },
    rules: [
      { name: 'macs', when: { modelFamilies: ['Mac'] }, reject: { message: 'Pas de Mac.' } },
      {
        name: 'half',
        when: { percent: 50 },
        enroll: { version: 'mdm-adde', baseUrl: 'https://x.example/a' },
      },
    ],
  }));
  tenants.push({
    name: 'big',
    domains: ['big.example'],
    enroll: { version: 'mdm-byod', baseUrl: 'https://manage.microsoft.com.com/x' },
    rules: [
      {
        name: 'cohort',
        when: { usersFile: 'cohort.txt' } as never,
        reject: { message: 'Listed.' },
      },
    ],
  } as never);
  const path = join(dir, 'config.json');
  await writeFile(path, JSON.stringify({ serviceHosts: ['discovery.example'], tenants }));
  return path;
}

describe('reloads in a worker thread (config/reload.ts)', () => {
  it('deliver the config loadConfig reads, shared parts shared, and a table that answers alike', async () => {
    const path = await writeConfig();
    const direct = await loadConfig(path);
    const reloaded = await reloadInWorker({ path }, (lists) => tableBuilder(lists));
    if (reloaded === 'unchanged') throw new Error('unexpected');
    expect(reloaded.config).toStrictEqual(direct);
    expect(reloaded.config.warnings.length).toBeGreaterThan(0);
    const tenants = reloaded.config.tenants;
    expect(tenants[0]?.rules[0]).toBe(tenants[1100]?.rules[0]);
    expect(tenants[0]?.action).toBe(tenants[1100]?.action);
    const plain = compileConfig(direct);
    for (const [host, user] of [
      ['t7.example', 'a@t7.example'],
      ['x.t900.example', 'b@t900.example'],
      ['big.example', 'user11999@big.example'],
      ['big.example', 'other@big.example'],
      ['discovery.example', 'c@t1199.example'],
      ['nobody.example', 'd@nobody.example'],
    ] as const) {
      for (const family of ['Mac', 'iPhone']) {
        const request = { host, search: deviceQuery(user, family) };
        expect(decide(reloaded.table, request).response).toStrictEqual(
          decide(plain, request).response,
        );
      }
    }
  });

  it('say "unchanged" when no byte changed, and refuse an invalid config with loadConfig\'s problems', async () => {
    const path = await writeConfig();
    const direct = await loadConfig(path);
    const previous = { digest: direct.digest as string, files: [...direct.userLists.keys()] };
    expect(await reloadInWorker({ path, previous }, (l) => tableBuilder(l))).toBe('unchanged');
    await writeFile(join(dir, 'cohort.txt'), 'not an address\n');
    // A users file changed: read again (and refused, as that file is no list of users).
    await expect(reloadInWorker({ path, previous }, (l) => tableBuilder(l))).rejects.toBeInstanceOf(
      ConfigError,
    );
    await writeFile(path, '{"tenants":[{"name":"x","domains":["contoso"],"notFound":true}]}');
    const refused = await reloadInWorker({ path }, (l) => tableBuilder(l)).catch((e) => e);
    const expected = await loadConfig(path).catch((e) => e);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).problems).toStrictEqual((expected as ConfigError).problems);
  });
});

describe('a reload worker that fails', () => {
  const builder = () => tableBuilder(new Map(), securityHeaders());
  /** A worker running `code` (CommonJS, eval'd) instead of the reload worker. */
  const fake = (code: string) => () =>
    new Worker(`const { parentPort } = require('node:worker_threads');\n${code}`, { eval: true });
  const started = "parentPort.postMessage({ kind: 'started' });";

  it.each([
    [
      'a worker that cannot be made',
      () => () => {
        throw new Error('ERR_WORKER_INIT_FAILED');
      },
    ],
    ['code that fails to load', () => fake("throw new Error('cannot find module tsx');")],
    ['a worker that ends before its code ran', () => fake('process.exit(0);')],
  ])('is unavailable (load on the serving thread instead) for %s', async (_what, make) => {
    await expect(reloadInWorker({ path: dir }, builder, make())).rejects.toBeInstanceOf(
      WorkerUnavailable,
    );
  });

  it.each([
    [
      'throws after it started',
      `${started} setTimeout(() => { throw new Error('a bug'); }, 10);`,
      /failed \(Error: a bug\)/,
    ],
    [
      'exits after it started',
      `${started} setTimeout(() => process.exit(3), 10);`,
      /stopped \(exit code 3\)/,
    ],
    [
      'sends that it failed',
      `${started} parentPort.once('message', () => parentPort.postMessage({ kind: 'failed', message: 'EIO' }));`,
      /^EIO$/,
    ],
  ])(
    'refuses the reload, never loading it again, when the worker %s',
    async (_what, code, message) => {
      const failure = reloadInWorker({ path: dir }, builder, fake(code));
      await expect(failure).rejects.not.toBeInstanceOf(WorkerUnavailable);
      await expect(failure).rejects.toThrow(message);
    },
  );

  it('refuses the reload when the worker runs out of memory, even before it started', async () => {
    const hog = new Worker('const a = []; for (;;) a.push(new Array(1e5).fill(1));', {
      eval: true,
      resourceLimits: { maxOldGenerationSizeMb: 16 },
    });
    const failure = reloadInWorker({ path: dir }, builder, () => hog);
    await expect(failure).rejects.toBeInstanceOf(ReloadWorkerFailed);
    await expect(failure).rejects.toThrow(/ran out of memory: the config is too large to load/);
  });

  it("gives the worker half the serving thread's heap", () => {
    expect(workerHeapMb()).toBe(
      Math.max(64, Math.floor(getHeapStatistics().heap_size_limit / 2 / 1024 / 1024)),
    );
  });
});
