// Prometheus metrics: requests by tenant, outcome and status; latency; config reloads; the process.
import { Counter, collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';

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
  // Counted in plain numbers on the request path, and turned into prom-client's values only when
  // scraped: the same names, labels and values, at a fraction of the cost per request.
  const counts = new Map<string, { tenant: string; outcome: string; status: string; n: number }>();
  const requests = new Counter({
    name: 'mdm_discovery_requests_total',
    help: 'Discovery requests by tenant (configured name, or "none"), outcome and status.',
    labelNames: ['tenant', 'outcome', 'status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const c of counts.values()) this.labels(c.tenant, c.outcome, c.status).inc(c.n);
    },
  });
  const duration = new PlainHistogram(
    'mdm_discovery_request_duration_seconds',
    'Time from request to response for discovery requests.',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
  );
  registry.registerMetric(duration as unknown as Metric);
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
  return {
    registry,
    request(tenant, outcome, status, seconds) {
      const name = tenant ?? 'none';
      const key = `${name}\n${outcome}\n${status}`;
      const seen = counts.get(key);
      if (seen === undefined)
        counts.set(key, { tenant: name, outcome, status: String(status), n: 1 });
      else seen.n++;
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

/**
 * A histogram kept in a plain array, rendered as prom-client renders its own (cumulative
 * `_bucket` series with `le`, then `_sum` and `_count`): observing is a few comparisons and
 * additions, with no label hashing.
 */
class PlainHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.#counts = new Float64Array(buckets.length);
  }

  observe(value: number): void {
    const counts = this.#counts;
    const { buckets } = this;
    for (let i = 0; i < buckets.length; i++) {
      if (value <= (buckets[i] ?? 0)) {
        counts[i] = (counts[i] ?? 0) + 1;
        break;
      }
    }
    this.#sum += value;
    this.#count++;
  }

  async get() {
    let cumulative = 0;
    const values = this.buckets.map((le, i) => {
      cumulative += this.#counts[i] as number;
      return { labels: { le }, value: cumulative, metricName: `${this.name}_bucket` };
    });
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: [
        ...values,
        { labels: { le: '+Inf' }, value: this.#count, metricName: `${this.name}_bucket` },
        { labels: {}, value: this.#sum, metricName: `${this.name}_sum` },
        { labels: {}, value: this.#count, metricName: `${this.name}_count` },
      ],
    };
  }

  reset(): void {
    this.#counts.fill(0);
    this.#sum = 0;
    this.#count = 0;
  }
}
