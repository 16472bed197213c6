// Signals and fatal errors of a long-running command (serve, watch): stop gracefully once, exit at once on a second.

/** What the handlers log through (a pino logger). */
interface Log {
  info(object: object, message: string): void;
  info(message: string): void;
  error(object: object, message: string): void;
  fatal(object: object, message: string): void;
}

export interface SignalOptions {
  readonly log: Log;
  /** The words of the log lines: `shutting down` and `stopped` for serve. */
  readonly messages: { readonly stopping: string; readonly stopped: string };
  /** The process ends this long after a stop began (plus a second), whatever is still pending. */
  readonly graceMs: number;
  /** Stops the work: `forced` when something had to be cut (the exit code is then 1). */
  readonly stop: () => Promise<'drained' | 'forced'>;
  /** SIGHUP: none leaves SIGHUP ignored, rather than ending the process as Node's default does. */
  readonly reload?: () => void;
}

/**
 * SIGTERM and SIGINT stop gracefully and exit 0 (1 when the stop was forced or failed); a second
 * signal exits 1 at once. An uncaught exception or unhandled rejection is logged and stops the
 * same way with exit 1: a bug must not leave a half-working process. Whatever is still pending
 * (a read stuck in the kernel keeps the event loop alive), the process ends within the grace
 * period and a second. Why not close-with-grace, which Fastify's examples use: it neither reloads
 * on SIGHUP nor tells a drained stop from a forced one in the exit code, and this is 60 lines.
 */
export function handleSignals(options: SignalOptions): void {
  const { log, messages } = options;
  let stopping = false;
  const stop = (reason: string, code: 0 | 1) => {
    if (stopping) {
      process.stderr.write(`mdm-discovery: ${reason} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    log.info({ reason }, messages.stopping);
    setTimeout(() => process.exit(1), options.graceMs + 1000).unref();
    options.stop().then(
      (how) => {
        log.info({ how }, messages.stopped);
        const exit = how === 'drained' ? code : 1;
        process.exitCode = exit;
        // pino's last lines are written by then; timers of libraries must not hold the exit.
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
  process.on('uncaughtException', (error) => {
    log.fatal({ err: error }, 'uncaught exception');
    stop('uncaught exception', 1);
  });
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason }, 'unhandled rejection');
    stop('unhandled rejection', 1);
  });
  const { reload } = options;
  process.on('SIGHUP', () => {
    if (reload === undefined) return;
    log.info('SIGHUP: reloading');
    reload();
  });
}
