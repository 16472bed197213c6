// Reloads, one at a time: the TLS files, then the config (read in a worker), swapped in or refused.
import type { Logger } from 'pino';
import type { Config } from '../config/model.js';
import { ConfigError, problemLines } from '../config/problems.js';
import { WorkerUnavailable } from '../config/reload.js';
import type { RoutingTable } from '../discovery/table.js';
import type { Metrics } from './metrics.js';

/** The last reload: when, whether it was taken, and (refused) every error as validate prints it. */
export interface ReloadStatus {
  readonly at: Date;
  readonly ok: boolean;
  /** The generation serving after it. */
  readonly generation: number;
  readonly errors: readonly string[];
}

/** What a config load gives: a config to swap in (and its table, when compiled already), or nothing new. */
export type Loaded = { readonly config: Config; readonly table?: RoutingTable } | 'unchanged';

export interface ReloaderOptions {
  /** The config being served. */
  readonly current: () => Config;
  /** Reads and validates the config in a worker; rejects with WorkerUnavailable when none can run. */
  readonly loadInWorker: (current: Config) => Promise<Loaded>;
  /** Reads and validates it on this thread, as at start-up: only where no worker can run. */
  readonly loadHere: (current: Config) => Promise<Loaded>;
  /** Swaps a validated config in. */
  readonly apply: (config: Config, table: RoutingTable | undefined) => void;
  /** Re-reads the TLS files: `refused` keeps the old certificate; none when not serving TLS. */
  readonly reloadTls?: () => 'unchanged' | 'renewed' | 'refused';
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, 'configLoaded' | 'reloadFailed'>;
}

export interface Reloader {
  /** True when the new config serves or nothing changed, false when refused. */
  reload(reason: string): Promise<boolean>;
  generation(): number;
  last(): ReloadStatus;
}

/**
 * One reload at a time; a reload asked for during one runs once more after it (however many were
 * asked). Whatever goes wrong (an invalid file, a folder that cannot be listed, a worker that ran
 * out of memory, a bug), the last good config keeps serving: a reload never takes the process down.
 */
export function createReloader(options: ReloaderOptions): Reloader {
  const { logger, metrics } = options;
  let generation = 1;
  let last: ReloadStatus = { at: new Date(), ok: true, generation, errors: [] };
  let workerWarned = false;

  const load = async (current: Config): Promise<Loaded> => {
    try {
      return await options.loadInWorker(current);
    } catch (error) {
      if (!(error instanceof WorkerUnavailable)) throw error;
      if (!workerWarned) {
        workerWarned = true;
        logger.warn({ err: error }, 'reload worker unavailable: reloading on the serving thread');
      }
      return options.loadHere(current);
    }
  };

  const refused = (error: unknown, reason: string): false => {
    metrics.reloadFailed();
    const errors =
      error instanceof ConfigError
        ? problemLines(error.problems)
        : [error instanceof Error ? error.message : String(error)];
    if (error instanceof ConfigError) {
      for (const line of errors) logger.error(line);
    } else {
      logger.error({ err: error }, 'config reload failed');
    }
    last = { at: new Date(), ok: false, generation, errors };
    logger.error(
      { generation, reason },
      'config reload refused: still serving the last good config',
    );
    return false;
  };

  const once = async (reason: string): Promise<boolean> => {
    let ok = true;
    if (options.reloadTls?.() === 'refused') {
      ok = false;
      metrics.reloadFailed();
    }
    try {
      const loaded = await load(options.current());
      if (loaded === 'unchanged') return ok;
      options.apply(loaded.config, loaded.table);
      generation++;
      metrics.configLoaded(generation, loaded.config.tenants.length);
      for (const line of problemLines(loaded.config.warnings)) logger.warn(line);
      logger.info(
        {
          generation,
          tenants: loaded.config.tenants.length,
          reason,
          thread: loaded.table ? 'worker' : 'serving',
        },
        'config reloaded',
      );
      last = { at: new Date(), ok: true, generation, errors: [] };
      return ok;
    } catch (error) {
      return refused(error, reason);
    }
  };

  let running: Promise<boolean> | undefined;
  let pending = false;
  const reload = async (reason: string): Promise<boolean> => {
    if (running) {
      pending = true;
      return running;
    }
    running = once(reason);
    try {
      return await running;
    } finally {
      running = undefined;
      if (pending) {
        pending = false;
        void reload(reason);
      }
    }
  };
  return { reload, generation: () => generation, last: () => last };
}
