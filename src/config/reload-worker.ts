// The worker a reload runs in: reads and validates the config off the serving thread, and sends it in parts.
import { parentPort, workerData } from 'node:worker_threads';
import { loadConfig } from './load.js';
import type { Config } from './model.js';
import { ConfigError } from './problems.js';
import type { ReloadRequest, WireMessage, WireTenant } from './reload.js';
import type { Action, RuleConfig } from './schema.js';

/** Tenants per message: each is received and compiled in a millisecond or two. */
const TENANTS_PER_PART = 500;
/** Users-file lines per message. */
const USERS_PER_PART = 5000;

const request = workerData as ReloadRequest;
/** The messages that end a reload. */
const FINAL = new Set<WireMessage['kind']>(['unchanged', 'done', 'refused', 'failed']);
// One message at a time, each sent when the serving thread asks for the next: Node reads
// (deserialises) every message that has arrived in one go, which for a whole config would hold
// the serving thread as long as reading it in one piece.
const outbox: WireMessage[] = [];
let asked = true;
const send = () => {
  const message = outbox.shift();
  if (message === undefined) {
    asked = true;
    return;
  }
  asked = false;
  parentPort?.postMessage(message);
  // The last message: the port closes, and the worker ends.
  if (FINAL.has(message.kind)) parentPort?.close();
};
parentPort?.on('message', send);
const post = (message: WireMessage) => {
  outbox.push(message);
  if (asked) send();
};

// The worker's code has loaded: from here on, a failure is this reload failing, never a reason to
// load the same config on the serving thread (config/reload.ts).
post({ kind: 'started' });

try {
  // What loadConfig needs of the config being served to tell that nothing changed.
  const previous: Config | undefined = request.previous && {
    tenants: [],
    serviceHosts: [],
    warnings: [],
    userLists: new Map(request.previous.files.map((file) => [file, new Set<string>()])),
    digest: request.previous.digest,
  };
  const config = await loadConfig(request.path, {
    ...(previous ? { previous } : {}),
    usersFileRoots: request.usersFileRoots,
  });
  if (config === previous) {
    post({ kind: 'unchanged' });
  } else {
    for (const [file, users] of config.userLists) {
      const all = [...users];
      for (let i = 0; i === 0 || i < all.length; i += USERS_PER_PART) {
        post({ kind: 'users', file, users: all.slice(i, i + USERS_PER_PART) });
      }
    }
    // Actions and rules that tenants share are sent once, by number: structured clone keeps
    // sharing within one message only.
    const actions = new Map<Action, number>();
    const rules = new Map<RuleConfig, number>();
    let part: Extract<WireMessage, { kind: 'part' }> = {
      kind: 'part',
      actions: [],
      rules: [],
      tenants: [],
    };
    const actionId = (action: Action) => {
      let id = actions.get(action);
      if (id === undefined) {
        id = actions.size;
        actions.set(action, id);
        part.actions.push(action);
      }
      return id;
    };
    const ruleId = (rule: RuleConfig) => {
      let id = rules.get(rule);
      if (id === undefined) {
        id = rules.size;
        rules.set(rule, id);
        part.rules.push({ name: rule.name, when: rule.when, action: actionId(rule.action) });
      }
      return id;
    };
    for (const tenant of config.tenants) {
      const wire: WireTenant = {
        name: tenant.name,
        domains: tenant.domains,
        watch: tenant.watch,
        source: tenant.source,
        action: actionId(tenant.action),
        rules: tenant.rules.map(ruleId),
      };
      part.tenants.push(wire);
      if (part.tenants.length >= TENANTS_PER_PART) {
        post(part);
        part = { kind: 'part', actions: [], rules: [], tenants: [] };
      }
    }
    if (part.tenants.length > 0) post(part);
    post({
      kind: 'done',
      serviceHosts: config.serviceHosts,
      warnings: config.warnings,
      ...(config.digest ? { digest: config.digest } : {}),
    });
  }
} catch (error) {
  post(
    error instanceof ConfigError
      ? { kind: 'refused', problems: error.problems }
      : { kind: 'failed', message: error instanceof Error ? error.message : String(error) },
  );
}
