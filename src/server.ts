// The serving process: the logger, the listeners, reloads, signals and shutdown, from parsed settings.
import type { Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Env } from './config/env.js';
import { type Config, DEFAULT_CONFIG_PATH, loadConfig } from './config/load.js';
import { ConfigError, problemLines } from './config/problems.js';
import { FileReadError, readRegularFile } from './config/read-file.js';
import { reloadInWorker, WorkerUnavailable } from './config/reload.js';
import type { RoutingTable } from './discovery/table.js';
import { buildApp } from './http/app.js';
import { createLogger } from './http/logger.js';
import { TLS_SETTINGS } from './http/tls.js';
import { buildAdminApp } from './ops/admin.js';
import { createMetrics } from './ops/metrics.js';
import { createWatcher } from './ops/watch.js';
import { VERSION } from './version.js';
import type { Watcher } from './watch/watcher.js';

export interface ServeOptions {
  /** Overrides MDM_DISCOVERY_CONFIG (from `serve --config`). */
  readonly configPath?: string | undefined;
  /** Where the logger writes; stdout when omitted. */
  readonly logDestination?: NodeJS.WritableStream;
}

export interface RunningServer {
  readonly app: FastifyInstance;
  /** `http://127.0.0.1:8080` (https when TLS files are set). */
  readonly url: string;
  /** The admin listener's URL; undefined with ADMIN_PORT=off. */
  readonly adminUrl: string | undefined;
  /** The config being served. */
  config(): Config;
  /** 1 after start-up, one more per config swapped in. */
  generation(): number;
  /** Re-reads config (and TLS files): true when the new one serves or nothing changed, false when refused. */
  reload(reason: string): Promise<boolean>;
  /** Stops accepting, lets requests in flight finish within SHUTDOWN_GRACE_MS, then closes. */
  shutdown(): Promise<'drained' | 'forced'>;
  /** The domain watcher, when WATCH_INTERVAL is set. */
  readonly watcher: Watcher | undefined;
  lastReload(): ReloadStatus;
}

/**
 * Loads the config, builds the app and the admin listener, and listens. Throws ConfigError
 * (nothing listens) when the config is invalid. Signals are not touched here: see main().
 */
export async function startServer(env: Env, options: ServeOptions = {}): Promise<RunningServer> {
  const configPath = options.configPath ?? env.MDM_DISCOVERY_CONFIG ?? DEFAULT_CONFIG_PATH;
  const loadStarted = performance.now();
  const usersFileRoots = env.USERS_FILE_ROOTS;
  let config = await loadConfig(configPath, { usersFileRoots });
  const logger = createLogger({
    level: env.LOG_LEVEL,
    format: logFormat(env.LOG_FORMAT, process.stdout.isTTY === true),
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  for (const line of problemLines(config.warnings)) logger.warn(line);
  let tls = readTls(env);
  const metrics = createMetrics();
  const app = await buildApp({
    config,
    logger,
    ...(env.LOG_HASH_KEY ? { logHashKey: env.LOG_HASH_KEY } : {}),
    ...(tls ? { https: tls } : {}),
    trustProxy: env.TRUST_PROXY,
    metrics,
    limits: {
      requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
      headersTimeoutMs: env.HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: env.KEEP_ALIVE_TIMEOUT_MS,
      maxUrlLength: env.MAX_URL_LENGTH,
      rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
      rateLimitIpv6Prefix: env.RATE_LIMIT_IPV6_PREFIX,
    },
  });
  // Read, validated and compiled (buildApp compiles the routing table).
  const loadMs = Math.round(performance.now() - loadStarted);
  let generation = 1;
  let lastReload: ReloadStatus = { at: new Date(), ok: true, generation, errors: [] };
  metrics.configLoaded(generation, config.tenants.length);
  // Ready while a loaded config serves and no drain has begun; the admin listener stays up
  // through the drain, so that a liveness probe still gets its 200 and only readiness says 503.
  let draining = false;
  // The watcher reads the config being served at each round: a reload changes its watch list.
  // Loaded only when on: undici and the verify checks are not for every start.
  const domainWatcher =
    env.WATCH_INTERVAL > 0
      ? (await import('./watch/from-settings.js')).watcherFromSettings(
          env,
          () => config,
          logger,
          metrics.registry,
        )
      : undefined;
  const admin =
    env.ADMIN_PORT === 'off'
      ? undefined
      : await buildAdminApp({
          metrics,
          ready: () => !draining && app.server.listening,
          status: {
            source: {
              version: VERSION,
              configSource:
                configPath === DEFAULT_CONFIG_PATH ? '(embedded demo config)' : configPath,
              startedAt: new Date(),
              config: () => config,
              table: () => app.routingTable(),
              lastReload: () => lastReload,
              requestsByOutcome: () => metrics.requestsByOutcome(),
              ...(domainWatcher ? { watch: () => domainWatcher.state() } : {}),
            },
          },
          token: env.ADMIN_TOKEN,
        });
  const url = await app.listen({ host: env.HOST, port: env.PORT });
  const adminUrl = admin
    ? await admin.listen({ host: env.ADMIN_HOST, port: env.ADMIN_PORT as number })
    : undefined;
  logger.info(
    {
      config: configPath === DEFAULT_CONFIG_PATH ? '(embedded demo config)' : configPath,
      tenants: config.tenants.length,
      loadMs,
      admin: adminUrl,
    },
    'config loaded',
  );

  const watched = () => [
    configPath,
    ...config.userLists.keys(),
    ...(env.TLS_CERT_FILE && env.TLS_KEY_FILE ? [env.TLS_CERT_FILE, env.TLS_KEY_FILE] : []),
  ];
  const reloadOnce = async (reason: string): Promise<boolean> => {
    let ok = true;
    if (tls) {
      const renewed = reloadTls(app, env, tls, logger);
      if (renewed === 'refused') {
        ok = false;
        metrics.reloadFailed();
      } else if (renewed !== 'unchanged') tls = renewed;
    }
    // Whatever goes wrong (an invalid file, a folder that cannot be listed, a bug), the last good
    // config keeps serving: a reload never takes the process down.
    try {
      const loaded = await reloadOffThread();
      if (loaded === 'unchanged') return ok;
      const next = loaded.config;
      app.replaceConfig(next, loaded.table);
      config = next;
      generation++;
      metrics.configLoaded(generation, next.tenants.length);
      for (const line of problemLines(next.warnings)) logger.warn(line);
      logger.info(
        {
          generation,
          tenants: next.tenants.length,
          reason,
          thread: loaded.table ? 'worker' : 'serving',
        },
        'config reloaded',
      );
      lastReload = { at: new Date(), ok: true, generation, errors: [] };
      watcher?.watch(watched());
      return ok;
    } catch (error) {
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
      lastReload = { at: new Date(), ok: false, generation, errors };
      logger.error(
        { generation, reason },
        'config reload refused: still serving the last good config',
      );
      return false;
    }
  };
  // Read and validated in a worker thread, received and compiled here between requests
  // (config/reload.ts); where no worker can run, here, as at start-up.
  let workerWarned = false;
  const reloadOffThread = async (): Promise<
    { config: Config; table?: RoutingTable } | 'unchanged'
  > => {
    try {
      return await reloadInWorker(
        {
          path: configPath,
          usersFileRoots,
          ...(config.digest
            ? { previous: { digest: config.digest, files: [...config.userLists.keys()] } }
            : {}),
        },
        (lists) => app.tableBuilder(lists),
      );
    } catch (error) {
      if (!(error instanceof WorkerUnavailable)) throw error;
      if (!workerWarned) {
        workerWarned = true;
        logger.warn({ err: error }, 'reload worker unavailable: reloading on the serving thread');
      }
      const next = await loadConfig(configPath, { previous: config, usersFileRoots });
      return next === config ? 'unchanged' : { config: next };
    }
  };
  // One reload at a time; a change during a reload triggers one more afterwards.
  let running: Promise<boolean> | undefined;
  let pending = false;
  const reload = async (reason: string): Promise<boolean> => {
    if (running) {
      pending = true;
      return running;
    }
    running = reloadOnce(reason);
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
  const watcher = env.WATCH_CONFIG
    ? createWatcher(
        () => void reload('file change'),
        env.RELOAD_DEBOUNCE_MS,
        (error) =>
          logger.warn({ err: error }, 'cannot watch for config changes; SIGHUP still reloads'),
      )
    : undefined;
  watcher?.watch(watched());

  domainWatcher?.start();

  const shutdown = async (): Promise<'drained' | 'forced'> => {
    draining = true;
    watcher?.close();
    await domainWatcher?.stop();
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      logger.warn(
        { graceMs: env.SHUTDOWN_GRACE_MS },
        'grace period over: closing the remaining connections',
      );
      app.server.closeAllConnections();
    }, env.SHUTDOWN_GRACE_MS);
    timer.unref();
    // Stops accepting; closes idle keep-alive connections; waits for requests in flight.
    await app.close();
    clearTimeout(timer);
    await admin?.close();
    return forced ? 'forced' : 'drained';
  };

  return {
    app,
    url,
    adminUrl,
    config: () => config,
    generation: () => generation,
    reload,
    shutdown,
    watcher: domainWatcher,
    lastReload: () => lastReload,
  };
}

/** The last reload: when, whether it was taken, and (refused) every error as validate prints it. */
export interface ReloadStatus {
  readonly at: Date;
  readonly ok: boolean;
  /** The generation serving after it. */
  readonly generation: number;
  readonly errors: readonly string[];
}

/** A PEM certificate chain or key larger than this is refused. */
const MAX_TLS_FILE_BYTES = 1024 * 1024;

function readTls(env: Env): { key: string; cert: string } | undefined {
  if (!env.TLS_CERT_FILE || !env.TLS_KEY_FILE) return undefined;
  const read = (path: string, name: string) => {
    try {
      return readRegularFile(path, MAX_TLS_FILE_BYTES);
    } catch (error) {
      const reason = error instanceof FileReadError ? error.reason : String(error);
      throw new Error(`${name}=${path}: ${reason}`);
    }
  };
  return {
    cert: read(env.TLS_CERT_FILE, 'TLS_CERT_FILE'),
    key: read(env.TLS_KEY_FILE, 'TLS_KEY_FILE'),
  };
}

/** A renewed certificate is picked up without a restart; a broken one is refused and the old one kept. */
function reloadTls(
  app: FastifyInstance,
  env: Env,
  current: { key: string; cert: string },
  logger: Logger,
): { key: string; cert: string } | 'unchanged' | 'refused' {
  try {
    const next = readTls(env);
    if (!next || (next.cert === current.cert && next.key === current.key)) return 'unchanged';
    // Throws for a key that does not match its certificate, or unreadable PEM.
    (app.server as HttpsServer).setSecureContext({ ...next, ...TLS_SETTINGS });
    logger.info('TLS certificate reloaded');
    return next;
  } catch (error) {
    logger.error(
      { err: error },
      'TLS certificate reload refused: still serving the previous certificate',
    );
    return 'refused';
  }
}

/** Pretty lines for a person at a terminal; JSON for log collectors and everything else. */
export function logFormat(setting: Env['LOG_FORMAT'], stdoutIsTty: boolean): 'json' | 'pretty' {
  if (setting !== 'auto') return setting;
  return stdoutIsTty ? 'pretty' : 'json';
}

/**
 * `mdm-discovery serve` with parsed settings: starts, reloads on SIGHUP, and shuts down on SIGTERM
 * or SIGINT after in-flight requests finish; a second signal exits at once. Returns the exit code
 * for a failed start (the caller sets process.exitCode); throws ConfigError for an invalid config.
 */
export async function main(env: Env, options: ServeOptions = {}): Promise<0 | 1> {
  // SIGHUP's default action ends the process: a reload asked for during start-up (a ConfigMap
  // reloader, a quick `kill -HUP`) must not. The config being loaded is the current one anyway.
  const early = () => process.stderr.write('mdm-discovery: SIGHUP during start-up: ignored\n');
  process.on('SIGHUP', early);
  let server: RunningServer;
  try {
    server = await startServer(env, options);
  } catch (error) {
    process.off('SIGHUP', early);
    // A ConfigError is the dispatcher's to print; anything else (a port in use) is said here.
    if (error instanceof ConfigError) throw error;
    process.stderr.write(`mdm-discovery: ${(error as Error).message}\n`);
    return 1;
  }
  const log = server.app.log;
  let stopping = false;
  const stop = (reason: string, code: 0 | 1) => {
    if (stopping) {
      process.stderr.write(`mdm-discovery: ${reason} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    log.info({ reason }, 'shutting down');
    // The process ends within the grace period whatever is still pending (a read stuck in the
    // kernel keeps the event loop alive, and Node would otherwise wait for it for ever).
    setTimeout(() => process.exit(1), env.SHUTDOWN_GRACE_MS + 1000).unref();
    server.shutdown().then(
      (how) => {
        log.info({ how }, 'stopped');
        const exit = how === 'drained' ? code : 1;
        process.exitCode = exit;
        setTimeout(() => process.exit(exit), 500).unref();
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM', 0));
  process.on('SIGINT', () => stop('SIGINT', 0));
  // A bug must not leave a half-working process: log it, drain what is in flight, exit 1.
  process.on('uncaughtException', (error) => {
    log.fatal({ err: error }, 'uncaught exception');
    stop('uncaught exception', 1);
  });
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason }, 'unhandled rejection');
    stop('unhandled rejection', 1);
  });
  process.off('SIGHUP', early);
  process.on('SIGHUP', () => {
    log.info('SIGHUP: reloading');
    void server.reload('SIGHUP');
  });
  return 0;
}
