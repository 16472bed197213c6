// Prometheus metrics: requests by tenant, outcome and status; latency; config reloads; the process.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  /** One discovery request. `tenant` is a configured name or "none": labels stay bounded. */
  request(tenant: string | undefined, outcome: string, status: number, seconds: number): void;
  /** A config was loaded and swapped in. */
  configLoaded(generation: number, tenants: number): void;
  /** A reload was refused; the last good config keeps serving. */
  reloadFailed(): void;
  /** Answers so far by outcome, read from the counter (nothing extra on the request path). */
  requestsByOutcome(): Promise<Record<string, number>>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'mdm_discovery_requests_total',
    help: 'Discovery requests by tenant (configured name, or "none"), outcome and status.',
    labelNames: ['tenant', 'outcome', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'mdm_discovery_request_duration_seconds',
    help: 'Time from request to response for discovery requests.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [registry],
  });
  const generation = new Gauge({
    name: 'mdm_discovery_config_generation',
    help: 'How many configs have been loaded since start (1 after start-up).',
    registers: [registry],
  });
  const tenants = new Gauge({
    name: 'mdm_discovery_config_tenants',
    help: 'Tenants in the config being served.',
    registers: [registry],
  });
  const lastReload = new Gauge({
    name: 'mdm_discovery_config_last_reload_timestamp_seconds',
    help: 'When the config being served was loaded (Unix time).',
    registers: [registry],
  });
  const failures = new Counter({
    name: 'mdm_discovery_config_reload_failures_total',
    help: 'Reloads refused because the new config was invalid.',
    registers: [registry],
  });
  // Label children are looked up once per combination, not built per request.
  const children = new Map<string, { inc(): void }>();
  return {
    registry,
    request(tenant, outcome, status, seconds) {
      const key = `${tenant ?? 'none'}\n${outcome}\n${status}`;
      let child = children.get(key);
      if (child === undefined) {
        child = requests.labels(tenant ?? 'none', outcome, String(status));
        children.set(key, child);
      }
      child.inc();
      duration.observe(seconds);
    },
    configLoaded(n, count) {
      generation.set(n);
      tenants.set(count);
      lastReload.setToCurrentTime();
    },
    reloadFailed() {
      failures.inc();
    },
    async requestsByOutcome() {
      const totals: Record<string, number> = {};
      for (const { labels, value } of (await requests.get()).values) {
        const outcome = String(labels.outcome);
        totals[outcome] = (totals[outcome] ?? 0) + value;
      }
      return totals;
    },
  };
}
