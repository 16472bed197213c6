// The watcher as the settings describe it (WATCH_*), for `serve` and `watch` alike.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Env } from '../config/env.js';
import type { Config } from '../config/model.js';
import { readRegularFile } from '../config/read-file.js';
import { parseResolve } from '../verify/net.js';
import { createDomainWatcher, type DomainWatcher } from './watcher.js';

export class WatchSettingsError extends Error {
  readonly code = 'MDM_WATCH_SETTINGS';
}

export function watcherFromSettings(
  env: Env,
  config: () => Config | Promise<Config>,
  logger: Logger,
  registry: Registry,
): DomainWatcher {
  const resolve = env.WATCH_RESOLVE.map((text) => {
    const parsed = parseResolve(text);
    if (!parsed)
      throw new WatchSettingsError(`WATCH_RESOLVE: "${text}" is not HOST:PORT:ADDRESS[:PORT]`);
    return parsed;
  });
  let ca: string | undefined;
  if (env.WATCH_CA_FILE !== undefined) {
    try {
      ca = readRegularFile(env.WATCH_CA_FILE, 1024 * 1024);
    } catch (error) {
      throw new WatchSettingsError(
        `WATCH_CA_FILE=${env.WATCH_CA_FILE}: ${(error as Error).message}`,
      );
    }
  }
  return createDomainWatcher({
    config,
    // Each watched domain may be on a private address (split-horizon DNS): the target of a
    // request is always asked. What its answer names (a BaseURL) must not lead inward.
    net: { resolve, ca, timeoutMs: env.WATCH_TIMEOUT_MS },
    intervalMs: env.WATCH_INTERVAL,
    deepIntervalMs: env.WATCH_DEEP_INTERVAL,
    concurrency: env.WATCH_CONCURRENCY,
    logger,
    registry,
  });
}
