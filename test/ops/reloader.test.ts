// Reloads without a listener: one at a time, the worker and its fallback, TLS, refusals.
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/model.js';
import { ConfigError } from '../../src/config/problems.js';
import { ReloadWorkerFailed, WorkerUnavailable } from '../../src/config/reload.js';
import { createReloader, type Loaded, type ReloaderOptions } from '../../src/ops/reloader.js';
import { configOf, PRESETS } from '../helpers/app.js';

const A = configOf(PRESETS);
const B = configOf({ tenants: [(PRESETS.tenants as object[])[0]] });

/** A reloader over fakes, with what it did recorded. */
function harness(overrides: Partial<ReloaderOptions> = {}) {
  const sink = new PassThrough();
  let logs = '';
  sink.on('data', (d: Buffer) => {
    logs += d.toString();
  });
  const done = { applied: [] as Config[], loaded: 0, failed: 0, here: 0 };
  let current = A;
  const reloader = createReloader({
    current: () => current,
    loadInWorker: async () => {
      done.loaded++;
      return { config: B, table: undefined } as Loaded;
    },
    loadHere: async () => {
      done.here++;
      return { config: B };
    },
    apply: (config) => {
      done.applied.push(config);
      current = config;
    },
    logger: pino({ base: undefined }, sink),
    metrics: { configLoaded: () => {}, reloadFailed: () => done.failed++ },
    ...overrides,
  });
  return { reloader, done, logs: () => logs };
}

describe('the reloader', () => {
  it('swaps a new config in and counts a generation', async () => {
    const { reloader, done } = harness();
    expect(await reloader.reload('SIGHUP')).toBe(true);
    expect(done.applied).toEqual([B]);
    expect(reloader.generation()).toBe(2);
    expect(reloader.last()).toMatchObject({ ok: true, generation: 2, errors: [] });
  });

  it('runs one reload at a time, and one more for every burst asked during it', async () => {
    let release: () => void = () => {};
    let calls = 0;
    const { reloader } = harness({
      loadInWorker: async () => {
        calls++;
        if (calls === 1) await new Promise<void>((resolve) => (release = resolve));
        return 'unchanged';
      },
    });
    const first = reloader.reload('a');
    const during = [reloader.reload('b'), reloader.reload('c'), reloader.reload('d')];
    release();
    expect(await Promise.all([first, ...during])).toEqual([true, true, true, true]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(calls).toBe(2);
  });

  it('loads on the serving thread only when no worker can start, and warns once', async () => {
    const { reloader, done, logs } = harness({
      loadInWorker: async () => {
        throw new WorkerUnavailable('no threads');
      },
    });
    expect(await reloader.reload('x')).toBe(true);
    expect(await reloader.reload('y')).toBe(true);
    expect(done.here).toBe(2);
    expect(logs().split('reload worker unavailable').length - 1).toBe(1);
  });

  it.each([
    ['ran out of memory', new ReloadWorkerFailed('the reload worker ran out of memory: …')],
    [
      'refused the config',
      new ConfigError([{ severity: 'error', file: 'a.json', path: '(root)', message: 'bad' }]),
    ],
    ['failed', new Error('EIO')],
  ])(
    'refuses the reload when the worker %s: never loads it here, keeps the config, counts it',
    async (_what, error) => {
      const { reloader, done, logs } = harness({
        loadInWorker: async () => {
          throw error;
        },
      });
      expect(await reloader.reload('SIGHUP')).toBe(false);
      expect(done.here).toBe(0);
      expect(done.applied).toEqual([]);
      expect(done.failed).toBe(1);
      expect(reloader.generation()).toBe(1);
      expect(reloader.last()).toMatchObject({ ok: false, generation: 1 });
      expect(reloader.last().errors.join('\n')).toMatch(/memory|a\.json \(root\): bad|EIO/);
      expect(logs()).toContain('config reload refused: still serving the last good config');
    },
  );

  it('counts a refused TLS renewal, and still takes a good config', async () => {
    const { reloader, done } = harness({ reloadTls: () => 'refused' });
    expect(await reloader.reload('SIGHUP')).toBe(false);
    expect(done.failed).toBe(1);
    expect(done.applied).toEqual([B]);
  });
});
