// The process edge: .env, the environment, the logger, the listeners, reloads and signals. The only file that reads process.env.
import { readFile } from 'node:fs/promises';
import type { Server as HttpsServer } from 'node:https';
import { config as loadDotenv } from 'dotenv';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type Env, parseEnv } from './config/env.js';
import { type Config, DEFAULT_CONFIG_PATH, loadConfig } from './config/load.js';
import { ConfigError, formatProblem } from './config/problems.js';
import { buildApp } from './http/app.js';
import { createLogger } from './http/logger.js';
import { TLS_SETTINGS } from './http/tls.js';
import { buildAdminApp } from './ops/admin.js';
import { createMetrics } from './ops/metrics.js';
import { createWatcher } from './ops/watch.js';

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
}

/**
 * Loads the config, builds the app and the admin listener, and listens. Throws ConfigError
 * (nothing listens) when the config is invalid. Signals are not touched here: see main().
 */
export async function startServer(env: Env, options: ServeOptions = {}): Promise<RunningServer> {
  const configPath = options.configPath ?? env.MDM_DISCOVERY_CONFIG ?? DEFAULT_CONFIG_PATH;
  const loadStarted = performance.now();
  let config = await loadConfig(configPath);
  const logger = createLogger({
    level: env.LOG_LEVEL,
    format: logFormat(env.LOG_FORMAT, process.stdout.isTTY === true),
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  for (const warning of config.warnings) logger.warn(formatProblem(warning));
  let tls = await readTls(env);
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
    },
  });
  // Read, validated and compiled (buildApp compiles the routing table).
  const loadMs = Math.round(performance.now() - loadStarted);
  let generation = 1;
  metrics.configLoaded(generation, config.tenants.length);
  const admin =
    env.ADMIN_PORT === 'off' ? undefined : await buildAdminApp({ metrics, ready: () => true });
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
      const renewed = await reloadTls(app, env, tls, logger);
      if (renewed === 'refused') ok = false;
      else if (renewed !== 'unchanged') tls = renewed;
    }
    try {
      const next = await loadConfig(configPath);
      if (next.digest === config.digest) return ok;
      app.replaceConfig(next);
      config = next;
      generation++;
      metrics.configLoaded(generation, next.tenants.length);
      for (const warning of next.warnings) logger.warn(formatProblem(warning));
      logger.info({ generation, tenants: next.tenants.length, reason }, 'config reloaded');
      watcher?.watch(watched());
      return ok;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      metrics.reloadFailed();
      for (const problem of error.problems) logger.error(formatProblem(problem));
      logger.error(
        { generation, reason },
        'config reload refused: still serving the last good config',
      );
      return false;
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

  const shutdown = async (): Promise<'drained' | 'forced'> => {
    watcher?.close();
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
  };
}

async function readTls(env: Env): Promise<{ key: string; cert: string } | undefined> {
  if (!env.TLS_CERT_FILE || !env.TLS_KEY_FILE) return undefined;
  const read = (path: string, name: string) =>
    readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new Error(`${name}=${path}: cannot be read (${error.code ?? error.message})`);
    });
  return {
    cert: await read(env.TLS_CERT_FILE, 'TLS_CERT_FILE'),
    key: await read(env.TLS_KEY_FILE, 'TLS_KEY_FILE'),
  };
}

/** A renewed certificate is picked up without a restart; a broken one is refused and the old one kept. */
async function reloadTls(
  app: FastifyInstance,
  env: Env,
  current: { key: string; cert: string },
  logger: Logger,
): Promise<{ key: string; cert: string } | 'unchanged' | 'refused'> {
  try {
    const next = await readTls(env);
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
 * The config path the service would use, for commands that read the config without serving it
 * (`explain`, `validate`): MDM_DISCOVERY_CONFIG from the environment or .env, else the demo.
 */
export function configPathFromEnvironment(): string {
  loadDotenv({ quiet: true });
  return parseEnv(process.env).MDM_DISCOVERY_CONFIG ?? DEFAULT_CONFIG_PATH;
}

/** Where `healthcheck` asks: the admin listener's /readyz, else the public one (plain HTTP only). */
export function adminReadyUrl(): string {
  loadDotenv({ quiet: true });
  const env = parseEnv(process.env);
  const local = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  return env.ADMIN_PORT === 'off'
    ? `${env.TLS_CERT_FILE ? 'https' : 'http'}://${local(env.HOST)}:${env.PORT}/readyz`
    : `http://${local(env.ADMIN_HOST)}:${env.ADMIN_PORT}/readyz`;
}

/**
 * `mdm-discovery serve`: reads .env and the environment, starts, reloads on SIGHUP, and shuts
 * down on SIGTERM or SIGINT after in-flight requests finish; a second signal exits at once.
 * Returns the exit code for a failed start (the caller sets process.exitCode).
 */
export async function main(options: ServeOptions = {}): Promise<number> {
  loadDotenv({ quiet: true });
  let server: RunningServer;
  try {
    server = await startServer(parseEnv(process.env), options);
  } catch (error) {
    process.stderr.write(`mdm-discovery: ${(error as Error).message}\n`);
    return 1;
  }
  const log = server.app.log;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`mdm-discovery: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.shutdown().then(
      (how) => {
        log.info({ how }, 'stopped');
        process.exitCode = how === 'drained' ? 0 : 1;
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {
    log.info('SIGHUP: reloading');
    void server.reload('SIGHUP');
  });
  return 0;
}
