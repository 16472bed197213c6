// The serving process: the logger, the listeners, reloads, signals and shutdown, from parsed settings.
import type { Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Env } from './config/env.js';
import { type Config, configLabel, DEFAULT_CONFIG_PATH, loadConfig } from './config/load.js';
import { ConfigError, problemLines } from './config/problems.js';
import { reloadInWorker } from './config/reload.js';
import { buildApp } from './http/app.js';
import { createLogger, logFormat } from './http/logger.js';
import { answerWriter, checkPreparedWrites } from './http/prepared-write.js';
import { ADMIN_TOKEN_GENERATED, adminTokenOf, buildAdminApp } from './ops/admin.js';
import { watchFiles } from './ops/file-watcher.js';
import { createMetrics, type Metrics } from './ops/metrics.js';
import { createReloader, type Reloader, type ReloadStatus } from './ops/reloader.js';
import { closeWithin } from './ops/shutdown.js';
import { handleSignals } from './ops/signals.js';
import { readTls, type TlsFiles, tlsRenewer } from './ops/tls-files.js';
import { VERSION } from './version.js';
import type { DomainWatcher } from './watch/watcher.js';

export interface ServeOptions {
  /** Overrides MDM_DISCOVERY_CONFIG (from `serve --config`). */
  readonly configPath?: string | undefined;
  /** Where the logger writes; stdout when omitted. */
  readonly logDestination?: NodeJS.WritableStream;
  /** Whether pretty log lines are coloured (the commands' rule: cli/color.ts). */
  readonly color?: boolean;
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
  readonly domainWatcher: DomainWatcher | undefined;
  lastReload(): ReloadStatus;
}

/**
 * Loads the config, builds the app and the admin listener, and listens. Throws ConfigError
 * (nothing listens) when the config is invalid. Signals are not touched here: see main().
 */
export async function startServer(env: Env, options: ServeOptions = {}): Promise<RunningServer> {
  const configPath = options.configPath ?? env.MDM_DISCOVERY_CONFIG ?? DEFAULT_CONFIG_PATH;
  const loadStarted = performance.now();
  let config = await loadConfig(configPath, { usersFileRoots: env.USERS_FILE_ROOTS });
  const logger = createLogger({
    level: env.LOG_LEVEL,
    format: logFormat(env.LOG_FORMAT, process.stdout.isTTY === true),
    color: options.color ?? false,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  for (const line of problemLines(config.warnings)) logger.warn(line);
  const tls = readTls(env);
  // Read (ADMIN_TOKEN_FILE) or generated before anything listens: a bad file refuses the start.
  const adminToken = adminTokenOf(env);
  const metrics = createMetrics();
  const app = await appFromSettings(env, config, logger, metrics, tls);
  // Read, validated and compiled (buildApp compiles the routing table).
  const loadMs = Math.round(performance.now() - loadStarted);
  metrics.configLoaded(1, config.tenants.length);

  const watched = () => [
    configPath,
    ...config.userLists.keys(),
    ...(env.TLS_CERT_FILE && env.TLS_KEY_FILE ? [env.TLS_CERT_FILE, env.TLS_KEY_FILE] : []),
  ];
  const reloader = configReloader(env, configPath, app, tls, logger, metrics, {
    current: () => config,
    apply: (next) => {
      config = next;
      fileWatcher?.watch(watched());
    },
  });
  const fileWatcher = env.WATCH_CONFIG
    ? watchFiles(
        () => void reloader.reload('file change'),
        env.RELOAD_DEBOUNCE_MS,
        (error) =>
          logger.warn({ err: error }, 'cannot watch for config changes; SIGHUP still reloads'),
      )
    : undefined;

  // The domain watcher reads the config being served at each round: a reload changes its watch
  // list. Loaded only when on: undici and the verify checks are not for every start.
  const domainWatcher =
    env.WATCH_INTERVAL > 0
      ? (await import('./watch/from-settings.js')).watcherFromSettings(
          env,
          () => config,
          logger,
          metrics.registry,
        )
      : undefined;
  // Ready while a loaded config serves and no drain has begun; the admin listener stays up
  // through the drain, so that a liveness probe still gets its 200 and only readiness says 503.
  let draining = false;
  const admin =
    env.ADMIN_PORT === 'off'
      ? undefined
      : await buildAdminApp({
          metrics,
          ready: () => !draining && app.server.listening,
          status: {
            source: {
              version: VERSION,
              configSource: configLabel(configPath),
              startedAt: new Date(),
              config: () => config,
              table: () => app.routingTable(),
              lastReload: reloader.last,
              requestsByOutcome: () => metrics.requestsByOutcome(),
              ...(domainWatcher ? { watch: () => domainWatcher.state() } : {}),
            },
          },
          token: adminToken,
          announce: (url) => logger.warn({ url }, ADMIN_TOKEN_GENERATED),
        });
  const url = await app.listen({ host: env.HOST, port: env.PORT });
  const adminUrl = admin
    ? await admin.listen({ host: env.ADMIN_HOST, port: env.ADMIN_PORT as number })
    : undefined;
  logger.info(
    { config: configLabel(configPath), tenants: config.tenants.length, loadMs, admin: adminUrl },
    'config loaded',
  );
  fileWatcher?.watch(watched());
  domainWatcher?.start();

  const shutdown = async (): Promise<'drained' | 'forced'> => {
    draining = true;
    fileWatcher?.close();
    await domainWatcher?.stop();
    const how = await closeWithin(app, env.SHUTDOWN_GRACE_MS, () =>
      logger.warn(
        { graceMs: env.SHUTDOWN_GRACE_MS },
        'grace period over: closing the remaining connections',
      ),
    );
    await admin?.close();
    return how;
  };

  return {
    app,
    url,
    adminUrl,
    config: () => config,
    generation: reloader.generation,
    reload: reloader.reload,
    shutdown,
    domainWatcher,
    lastReload: reloader.last,
  };
}

/**
 * Reloads of the served config: read in a worker (config/reload.ts), or here where no worker can
 * run, as at start-up; swapped into `app`, then handed to `served.apply`.
 */
function configReloader(
  env: Env,
  configPath: string,
  app: FastifyInstance,
  tls: TlsFiles | undefined,
  logger: Logger,
  metrics: Metrics,
  served: { current(): Config; apply(config: Config): void },
): Reloader {
  const usersFileRoots = env.USERS_FILE_ROOTS;
  return createReloader({
    current: served.current,
    // Read and validated in a worker thread, received and compiled here between requests.
    loadInWorker: (current) =>
      reloadInWorker(
        {
          path: configPath,
          usersFileRoots,
          ...(current.digest
            ? { previous: { digest: current.digest, files: [...current.userLists.keys()] } }
            : {}),
        },
        (lists) => app.tableBuilder(lists),
      ),
    loadHere: async (current) => {
      const next = await loadConfig(configPath, { previous: current, usersFileRoots });
      return next === current ? 'unchanged' : { config: next };
    },
    apply: (next, table) => {
      app.replaceConfig(next, table);
      served.apply(next);
    },
    ...(tls ? { reloadTls: tlsRenewer(app.server as HttpsServer, env, tls, logger) } : {}),
    logger,
    metrics,
  });
}

/**
 * The public app in the settings' terms, answers written prepared where this Node passes the
 * check (http/prepared-write.ts; run here, so that buildApp does no I/O).
 */
async function appFromSettings(
  env: Env,
  config: Config,
  logger: Logger,
  metrics: Metrics,
  tls: TlsFiles | undefined,
): Promise<FastifyInstance> {
  const prepared = await checkPreparedWrites(env.KEEP_ALIVE_TIMEOUT_MS);
  if (!prepared.ok) {
    logger.warn(
      { reason: prepared.reason },
      'prepared answers are off: answers are written the public way (slower, the same bytes)',
    );
  }
  return buildApp({
    config,
    logger,
    writer: answerWriter(prepared, env.KEEP_ALIVE_TIMEOUT_MS),
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
}

/**
 * `mdm-discovery serve` with parsed settings: starts, reloads on SIGHUP, and shuts down on SIGTERM
 * or SIGINT after in-flight requests finish; a second signal exits at once (ops/signals.ts).
 * Returns the exit code for a failed start (the caller sets process.exitCode); throws ConfigError
 * for an invalid config.
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
  process.off('SIGHUP', early);
  handleSignals({
    log: server.app.log,
    messages: { stopping: 'shutting down', stopped: 'stopped' },
    graceMs: env.SHUTDOWN_GRACE_MS,
    stop: () => server.shutdown(),
    reload: () => void server.reload('SIGHUP'),
  });
  return 0;
}
