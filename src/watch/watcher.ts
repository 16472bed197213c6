// The watcher: every configured domain asked in public on a schedule, its state kept, logged and exported.
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { mapLimit } from '../concurrency.js';
import { compileConfig } from '../config/compile.js';
import type { Config } from '../config/model.js';
import type { Check } from '../verify/checks.js';
import type { NetOptions } from '../verify/net.js';
import {
  allChecks,
  type DeepFindings,
  type DomainWatch,
  watchDomain,
  watchTargets,
} from './round.js';

export interface DomainWatcherOptions {
  /** The config at the start of each round: a reload changes the watch list. */
  readonly config: () => Config | Promise<Config>;
  readonly net: NetOptions;
  /** Between rounds (start to start), jittered by up to a tenth. */
  readonly intervalMs: number;
  /** At most this often per tenant: the BaseURL probe and the Entra tenant lookup. */
  readonly deepIntervalMs: number;
  /** Domains asked at once. */
  readonly concurrency: number;
  readonly logger: Logger;
  readonly registry: Registry;
}

export interface DomainWatcher {
  /** Rounds every interval from now on. */
  start(): void;
  /** One round now; resolves when it ends (tests, and the first round at start). */
  round(): Promise<void>;
  /** The last result per domain, and when the last round ended. */
  state(): { readonly lastRound: string | null; readonly domains: readonly DomainWatch[] };
  /** Aborts a round in flight and waits for it; no round starts after. */
  stop(): Promise<void>;
}

const VERDICT_VALUE = { pass: 0, info: 0, warn: 1, fail: 2 } as const;

export function createDomainWatcher(options: DomainWatcherOptions): DomainWatcher {
  const { logger } = options;
  const metrics = watchMetrics(options.registry);
  let results: DomainWatch[] = [];
  let lastEnded: string | null = null;
  let roundNumber = 0;
  const verdicts = new Map<string, string>();
  const deepDone = new Map<string, number>();
  /** Each domain's last deep findings, shown with every round until the next deep one. */
  const deepKept = new Map<string, DeepFindings>();
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  /** One log line per change between passing and not, per check: never one per round. */
  const logChanges = (d: DomainWatch) => {
    for (const c of allChecks(d)) {
      const key = `${d.domain}\n${c.section}\n${c.id}`;
      const now = c.verdict === 'info' ? 'pass' : c.verdict;
      const before = verdicts.get(key);
      verdicts.set(key, now);
      if (before === now || (before === undefined && now === 'pass')) continue;
      const fields = { tenant: d.tenant, domain: d.domain, section: c.section, check: c.id };
      if (now === 'pass') logger.info({ ...fields, detail: c.detail }, 'watch: check passes again');
      else {
        logger[now === 'fail' ? 'error' : 'warn'](
          { ...fields, verdict: now, detail: c.detail, fix: c.fix },
          `watch: ${c.label} ${now === 'fail' ? 'fails' : 'warns'}`,
        );
      }
    }
  };

  const runRound = async () => {
    const started = performance.now();
    const config = await options.config();
    const table = compileConfig(config);
    const targets = watchTargets(config);
    const round = roundNumber++;
    const now = Date.now();
    const found = await mapLimit(
      targets,
      options.concurrency,
      async (target) => {
        const deep = now - (deepDone.get(target.tenant.name) ?? 0) >= options.deepIntervalMs;
        const watched = await watchDomain(config, table, target, round, {
          ...options.net,
          signal: abort.signal,
          deep,
        });
        if (deep) deepDone.set(target.tenant.name, now);
        return withDeep(watched);
      },
      abort.signal,
    );
    if (abort.signal.aborted) return;
    results = found;
    for (const d of results) logChanges(d);
    metrics.publish(results, (performance.now() - started) / 1000);
    lastEnded = new Date().toISOString();
  };

  /** The round's result with the domain's last deep findings (this round's, when deep). */
  const withDeep = (watched: DomainWatch): DomainWatch => {
    if (watched.deep) deepKept.set(watched.domain, watched.deep);
    const deep = deepKept.get(watched.domain);
    if (deep === undefined) return watched;
    return { ...watched, deep, up: watched.up && !deep.checks.some((c) => c.verdict === 'fail') };
  };

  const round = () => {
    running ??= runRound()
      .catch((error: unknown) => logger.error({ err: error }, 'watch: round failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const schedule = () => {
    if (abort.signal.aborted) return;
    const jitter = 1 + (Math.random() - 0.5) / 5;
    timer = setTimeout(() => void round().then(schedule), options.intervalMs * jitter);
    timer.unref();
  };

  return {
    start() {
      void round().then(schedule);
    },
    round,
    state: () => ({ lastRound: lastEnded, domains: results }),
    async stop() {
      abort.abort();
      clearTimeout(timer);
      await running;
    },
  };
}

/** The watcher's gauges (docs/watch.md), set from each round's results. */
function watchMetrics(registry: Registry): {
  publish(domains: readonly DomainWatch[], seconds: number): void;
} {
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const up = gauge(
    'mdm_discovery_watch_up',
    '1 when no check of the domain failed in the last round.',
    ['tenant', 'domain'],
  );
  const checkGauge = gauge(
    'mdm_discovery_watch_check',
    'Each check of the last round: 0 pass, 1 warn, 2 fail.',
    ['tenant', 'domain', 'check'],
  );
  const matches = gauge(
    'mdm_discovery_watch_matches_config',
    "1 when the public answer for the model family is this config's, byte for byte.",
    ['tenant', 'domain', 'family'],
  );
  const expiry = gauge(
    'mdm_discovery_watch_certificate_expiry_timestamp_seconds',
    'When the certificate served for the domain expires (Unix time).',
    ['domain'],
  );
  const baseUrlExpiry = gauge(
    'mdm_discovery_watch_baseurl_certificate_expiry_timestamp_seconds',
    "When the certificate of the domain's BaseURL host expires (Unix time), from the last deep round.",
    ['domain', 'host'],
  );
  const lastRound = gauge(
    'mdm_discovery_watch_last_round_timestamp_seconds',
    'When the last watch round ended (Unix time).',
  );
  const duration = gauge(
    'mdm_discovery_watch_round_duration_seconds',
    'How long the last watch round took.',
  );

  const publishDomain = (d: DomainWatch) => {
    up.set({ tenant: d.tenant, domain: d.domain }, d.up ? 1 : 0);
    // The worst verdict per check label (a check may stand in several sections).
    const worst = new Map<string, number>();
    for (const c of allChecks(d)) {
      const id = checkLabel(c);
      worst.set(id, Math.max(worst.get(id) ?? 0, VERDICT_VALUE[c.verdict]));
    }
    for (const [id, value] of worst) {
      checkGauge.set({ tenant: d.tenant, domain: d.domain, check: id }, value);
    }
    for (const [family, same] of Object.entries(d.matches)) {
      matches.set({ tenant: d.tenant, domain: d.domain, family }, same ? 1 : 0);
    }
    if (d.certificateExpiry !== undefined) expiry.set({ domain: d.domain }, d.certificateExpiry);
    for (const b of d.deep?.baseUrlCertificates ?? []) {
      baseUrlExpiry.set({ domain: d.domain, host: b.host }, b.expiry);
    }
  };

  const publish = (domains: readonly DomainWatch[], seconds: number) => {
    for (const metric of [up, checkGauge, matches, expiry, baseUrlExpiry]) metric.reset();
    for (const d of domains) publishDomain(d);
    lastRound.setToCurrentTime();
    duration.set(seconds);
  };
  return { publish };
}

/**
 * The `check` label: the check's id, prefixed with its section for another host's TLS
 * (`baseurl.tls.expiry`, `redirect.tls.certificate`), so that it is not taken for the domain's own.
 */
export function checkLabel(c: Check): string {
  return (c.section === 'baseurl' || c.section === 'redirect') && c.id.startsWith('tls.')
    ? `${c.section}.${c.id}`
    : c.id;
}
