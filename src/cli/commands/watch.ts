// `mdm-discovery watch`: the watcher alone, with the admin listener, for answers this service does not serve.

import { compileConfig } from '../../config/compile.js';
import { configLabel, DEFAULT_CONFIG_PATH, loadConfig } from '../../config/load.js';
import type { Config } from '../../config/model.js';
import { ConfigError, problemLines } from '../../config/problems.js';
import type { RoutingTable } from '../../discovery/table.js';
import { createLogger, logFormat } from '../../http/logger.js';
import { ADMIN_TOKEN_GENERATED, adminTokenOf, buildAdminApp } from '../../ops/admin.js';
import { createMetrics } from '../../ops/metrics.js';
import { handleSignals } from '../../ops/signals.js';
import { VERSION } from '../../version.js';
import { watcherFromSettings } from '../../watch/from-settings.js';
import { watchTargets } from '../../watch/round.js';
import { parse } from '../args.js';
import { type Command, UsageError } from '../command.js';

const USAGE = `Usage: mdm-discovery watch [--config PATH]

Asks every exact domain of the config in public every WATCH_INTERVAL (default here: 5m), compares
each answer with the config's own, and exports the results on the admin listener (/metrics,
/watch, /healthz, /readyz). For teams whose discovery answer is served by something else (a
static site, a CDN worker); \`serve\` does the same with WATCH_INTERVAL set.

Options:
  --config PATH   config file or directory (default: $MDM_DISCOVERY_CONFIG, else the demo);
                  read again before every round

Environment: WATCH_INTERVAL, WATCH_DEEP_INTERVAL, WATCH_CONCURRENCY, WATCH_TIMEOUT_MS,
WATCH_RESOLVE, WATCH_CA_FILE, ADMIN_HOST, ADMIN_PORT, LOG_LEVEL, LOG_FORMAT (docs/watch.md).
`;

const DEFAULT_INTERVAL_MS = 5 * 60_000;

/** The compiled table of the config being watched, compiled once per config. */
const tables = new WeakMap<Config, RoutingTable>();
function tableOf(config: Config): RoutingTable {
  let table = tables.get(config);
  if (table === undefined) {
    table = compileConfig(config);
    tables.set(config, table);
  }
  return table;
}

export const watchCommand: Command = {
  usage: USAGE,
  async run(args, { settings, color }) {
    const { values, positionals } = parse(args, { config: { type: 'string' } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const path = values.config ?? settings.MDM_DISCOVERY_CONFIG ?? DEFAULT_CONFIG_PATH;
    const usersFileRoots = settings.USERS_FILE_ROOTS;
    // An invalid config at start is the dispatcher's to report (exit 1).
    let config: Config = await loadConfig(path, { usersFileRoots });
    const logger = createLogger({
      level: settings.LOG_LEVEL,
      format: logFormat(settings.LOG_FORMAT, process.stdout.isTTY === true),
      color,
    });
    const current = async () => {
      try {
        config = await loadConfig(path, { previous: config, usersFileRoots });
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        for (const line of problemLines(error.problems)) logger.error(line);
        logger.error('watch: config refused; watching the last good one');
      }
      return config;
    };
    const metrics = createMetrics();
    const env = {
      ...settings,
      WATCH_INTERVAL: settings.WATCH_INTERVAL > 0 ? settings.WATCH_INTERVAL : DEFAULT_INTERVAL_MS,
    };
    const watcher = watcherFromSettings(env, current, logger, metrics.registry);
    let stopping = false;
    const admin =
      settings.ADMIN_PORT === 'off'
        ? undefined
        : await buildAdminApp({
            metrics,
            ready: () => !stopping,
            status: {
              source: {
                version: VERSION,
                configSource: configLabel(path),
                startedAt: new Date(),
                config: () => config,
                table: () => tableOf(config),
                lastReload: () => ({ at: new Date(), ok: true, generation: 1, errors: [] }),
                requestsByOutcome: async () => ({}),
                watch: () => watcher.state(),
              },
            },
            token: adminTokenOf(settings),
            announce: (url) => logger.warn({ url }, ADMIN_TOKEN_GENERATED),
          });
    const adminUrl = await admin?.listen({
      host: settings.ADMIN_HOST,
      port: settings.ADMIN_PORT as number,
    });
    logger.info(
      { domains: watchTargets(config).length, everyMs: env.WATCH_INTERVAL, admin: adminUrl },
      'watch: started',
    );
    // Without an admin listener nothing else would keep the process alive between rounds.
    const alive = setInterval(() => {}, 1 << 30);
    watcher.start();
    handleSignals({
      log: logger,
      messages: { stopping: 'watch: stopping', stopped: 'watch: stopped' },
      graceMs: settings.SHUTDOWN_GRACE_MS,
      stop: async () => {
        stopping = true;
        await watcher.stop();
        await admin?.close();
        clearInterval(alive);
        return 'drained';
      },
      // The config is read again before every round: SIGHUP has nothing to do, and must not end it.
    });
    return 0;
  },
};
