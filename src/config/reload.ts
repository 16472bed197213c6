// A reload read and validated in a worker thread, and received and compiled here in parts between requests.
import { getHeapStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { RoutingTable } from '../discovery/table.js';
import type { TableBuilder } from './compile.js';
import type { Config, SourcedTenant } from './model.js';
import { ConfigError, type ConfigProblem } from './problems.js';
import type { Action, RuleConfig } from './schema.js';

/** What the worker is given. */
export interface ReloadRequest {
  readonly path: string;
  readonly usersFileRoots?: readonly string[] | undefined;
  /** The config being served, as far as telling "nothing changed" needs it. */
  readonly previous?: { readonly digest: string; readonly files: readonly string[] } | undefined;
}

/** A tenant on the wire: its action and rules by number (see the `part` message). */
export interface WireTenant extends Omit<SourcedTenant, 'action' | 'rules'> {
  readonly action: number;
  readonly rules: readonly number[];
}

/** The worker's messages, in the order it sends them. */
export type WireMessage =
  | { readonly kind: 'started' }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'users'; readonly file: string; readonly users: readonly string[] }
  | {
      readonly kind: 'part';
      /** Actions and rules not sent before, numbered in the order they come, across parts. */
      readonly actions: Action[];
      readonly rules: { name: string; when: RuleConfig['when']; action: number }[];
      readonly tenants: WireTenant[];
    }
  | {
      readonly kind: 'done';
      readonly serviceHosts: readonly string[];
      readonly warnings: readonly ConfigProblem[];
      readonly digest?: string;
    }
  | { readonly kind: 'refused'; readonly problems: readonly ConfigProblem[] }
  | { readonly kind: 'failed'; readonly message: string };

/** The worker could not run (it could not start, or its code failed to load): load here instead. */
export class WorkerUnavailable extends Error {
  readonly code = 'MDM_RELOAD_WORKER_UNAVAILABLE';
}

/**
 * The worker started and then failed (out of memory, an uncaught error, an exit): the reload is
 * refused. Never a reason to load the same config on the serving thread, where the same failure
 * would take the process down.
 */
export class ReloadWorkerFailed extends Error {
  readonly code = 'MDM_RELOAD_WORKER_FAILED';
}

/**
 * The reload worker's heap: half the serving thread's, so that a config too large to load fails
 * in the worker, which is ended, and leaves the serving thread the memory it serves with. (A
 * --max-old-space-size flag is V8's for every thread of the process and overrides this.)
 */
export function workerHeapMb(): number {
  return Math.max(64, Math.floor(getHeapStatistics().heap_size_limit / 2 / 1024 / 1024));
}

const resourceLimits = () => ({ maxOldGenerationSizeMb: workerHeapMb() });

/**
 * The worker: the built file next to this one, or, when running from the TypeScript sources (the
 * tests), the source file through tsx's loader, registered inside the worker.
 */
function startWorker(request: ReloadRequest): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./reload-worker.js', import.meta.url), {
      workerData: request,
      resourceLimits: resourceLimits(),
    });
  }
  const source = new URL('./reload-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(boot, { eval: true, workerData: request, resourceLimits: resourceLimits() });
}

/**
 * Reads, validates and compiles the config at `path` without holding the serving thread: a
 * worker thread reads and validates it (the part that takes time: about a second for 100,000
 * tenants) and sends it in parts of 500 tenants, each received and compiled here as its own
 * task, so that requests are answered between parts. The table is swapped in by the caller, in
 * one assignment. Resolves to "unchanged" when no byte of any file changed; rejects with
 * ConfigError for an invalid config, like loadConfig; with WorkerUnavailable when no worker could
 * start (`start` throws, or the worker ends before its code has loaded); with ReloadWorkerFailed
 * when it started and then ran out of memory, failed or stopped. `start` is for tests.
 */
export function reloadInWorker(
  request: ReloadRequest,
  builder: (userLists: Config['userLists']) => TableBuilder,
  start: (request: ReloadRequest) => Worker = startWorker,
): Promise<{ config: Config; table: RoutingTable } | 'unchanged'> {
  return new Promise((resolve, reject) => {
    let worker: Worker;
    try {
      worker = start(request);
    } catch (error) {
      reject(new WorkerUnavailable(String(error)));
      return;
    }
    const received = assembler(builder);
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      finish();
      void worker.terminate();
    };
    // Node hands over every message that has arrived in one go, and the worker's answer to
    // "next" can arrive while it still does: each message is taken on its own turn of the event
    // loop (setImmediate), so that requests are answered between parts. (Taking them in the
    // message handler itself doubled the longest stall: docs/PERFORMANCE.md.)
    const queue: WireMessage[] = [];
    let exitCode: number | undefined;
    // Set by the worker's first message: its code loaded, so it could be started.
    let started = false;
    const failed = (why: string) =>
      settle(() =>
        reject(
          started
            ? new ReloadWorkerFailed(`the reload worker ${why}`)
            : new WorkerUnavailable(`the reload worker could not start: it ${why}`),
        ),
      );
    const stopped = () => failed(`stopped (exit code ${exitCode})`);
    const next = () => {
      const message = queue.shift();
      if (message === undefined || settled) return;
      receive(message);
      if (settled) return;
      // The worker sends one message per request (reload-worker.ts), asked for once this one
      // is taken in, on a later turn of the event loop.
      worker.postMessage('next');
      if (queue.length > 0) setImmediate(next);
      else if (exitCode !== undefined) stopped();
    };
    worker.on('message', (message: WireMessage) => {
      queue.push(message);
      if (queue.length === 1) setImmediate(next);
    });
    const receive = (message: WireMessage) => {
      switch (message.kind) {
        case 'started':
          started = true;
          return;
        case 'unchanged':
          return settle(() => resolve('unchanged'));
        case 'users':
          return received.users(message);
        case 'part':
          return received.part(message);
        case 'done': {
          const done = received.done(message);
          return settle(() => resolve(done));
        }
        case 'refused':
          return settle(() => reject(new ConfigError(message.problems)));
        case 'failed':
          return settle(() => reject(new Error(message.message)));
      }
    };
    worker.on('error', (error: Error & { code?: string }) => {
      // Out of memory is the config's size, whenever it happens: never loaded here instead.
      if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        started = true;
        return failed(
          'ran out of memory: the config is too large to load; shorten it, or give the process more memory (NODE_OPTIONS=--max-old-space-size=…)',
        );
      }
      failed(`failed (${String(error)})`);
    });
    // Its messages may still be waiting in the queue when it exits.
    worker.on('exit', (code) => {
      exitCode = code;
      if (queue.length === 0) stopped();
    });
  });
}

/**
 * The config and its table, put together from the worker's messages: users files first, then
 * parts of tenants (each compiled as it comes), then the rest.
 */
function assembler(builder: (userLists: Config['userLists']) => TableBuilder) {
  const userLists = new Map<string, Set<string>>();
  const actions: Action[] = [];
  const rules: RuleConfig[] = [];
  const tenants: SourcedTenant[] = [];
  let table: TableBuilder | undefined;
  return {
    users(message: Extract<WireMessage, { kind: 'users' }>) {
      let list = userLists.get(message.file);
      if (list === undefined) {
        list = new Set();
        userLists.set(message.file, list);
      }
      for (const user of message.users) list.add(user);
    },
    part(message: Extract<WireMessage, { kind: 'part' }>) {
      table ??= builder(userLists);
      actions.push(...message.actions);
      for (const rule of message.rules) {
        rules.push({ ...rule, action: actions[rule.action] as Action });
      }
      for (const wire of message.tenants) {
        // The received object becomes the tenant: its numbers are replaced, not copied.
        const tenant = wire as unknown as { -readonly [K in keyof SourcedTenant]: unknown };
        tenant.action = actions[wire.action];
        tenant.rules = wire.rules.map((id) => rules[id]);
        tenants.push(tenant as SourcedTenant);
        table.add(tenant as SourcedTenant);
      }
    },
    done(message: Extract<WireMessage, { kind: 'done' }>): { config: Config; table: RoutingTable } {
      const config: Config = {
        tenants,
        serviceHosts: message.serviceHosts,
        userLists,
        warnings: message.warnings,
        ...(message.digest ? { digest: message.digest } : {}),
      };
      return { config, table: (table ?? builder(userLists)).finish(message.serviceHosts) };
    },
  };
}
