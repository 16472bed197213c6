// The process edge: .env, the environment, the logger, listen and signals. The only file that reads process.env.
import { config as loadDotenv } from 'dotenv';
import type { FastifyInstance } from 'fastify';
import { type Env, parseEnv } from './config/env.js';
import { type Config, DEFAULT_CONFIG_PATH, loadConfig } from './config/load.js';
import { formatProblem } from './config/problems.js';
import { buildApp } from './http/app.js';
import { createLogger } from './http/logger.js';

export interface ServeOptions {
  /** Overrides MDM_DISCOVERY_CONFIG (from `serve --config`). */
  readonly configPath?: string | undefined;
  /** Where the logger writes; stdout when omitted. */
  readonly logDestination?: NodeJS.WritableStream;
}

export interface RunningServer {
  readonly app: FastifyInstance;
  /** `http://127.0.0.1:8080` */
  readonly url: string;
  readonly config: Config;
  close(): Promise<void>;
}

/**
 * Loads the config, builds the app and listens. Throws ConfigError (nothing listens) when the
 * config is invalid. Signals are not touched here: see main().
 */
export async function startServer(env: Env, options: ServeOptions = {}): Promise<RunningServer> {
  const configPath = options.configPath ?? env.MDM_DISCOVERY_CONFIG ?? DEFAULT_CONFIG_PATH;
  const config = await loadConfig(configPath);
  const logger = createLogger({
    level: env.LOG_LEVEL,
    format: logFormat(env.LOG_FORMAT, process.stdout.isTTY === true),
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  for (const warning of config.warnings) logger.warn(formatProblem(warning));
  const app = await buildApp({
    config,
    logger,
    ...(env.LOG_HASH_KEY ? { logHashKey: env.LOG_HASH_KEY } : {}),
  });
  const url = await app.listen({ host: env.HOST, port: env.PORT });
  logger.info(
    {
      config: configPath === DEFAULT_CONFIG_PATH ? '(embedded demo config)' : configPath,
      tenants: config.tenants.length,
    },
    'config loaded',
  );
  return { app, url, config, close: () => app.close() };
}

/** Pretty lines for a person at a terminal; JSON for log collectors and everything else. */
export function logFormat(setting: Env['LOG_FORMAT'], stdoutIsTty: boolean): 'json' | 'pretty' {
  if (setting !== 'auto') return setting;
  return stdoutIsTty ? 'pretty' : 'json';
}

/**
 * The config path the service would use, for commands that read the config without serving it
 * (`explain`): MDM_DISCOVERY_CONFIG from the environment or .env, else the embedded demo.
 */
export function configPathFromEnvironment(): string {
  loadDotenv({ quiet: true });
  return parseEnv(process.env).MDM_DISCOVERY_CONFIG ?? DEFAULT_CONFIG_PATH;
}

/**
 * `mdm-discovery serve`: reads .env and the environment, starts, and shuts down on SIGTERM or
 * SIGINT after in-flight requests finish; a second signal exits at once. Returns the exit code
 * for a failed start (the caller sets process.exitCode).
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
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`mdm-discovery: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    server.close().then(
      () => {
        process.exitCode = 0;
      },
      (error: unknown) => {
        server.app.log.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return 0;
}
