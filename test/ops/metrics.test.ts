// The request metrics, counted in plain numbers, read exactly as prom-client's own would.
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/ops/metrics.js';

/** The two request metrics' text from a registry. */
async function requestText(registry: Registry): Promise<string> {
  const text = await registry.metrics();
  return text
    .split('\n\n')
    .filter((block) => /mdm_discovery_request(s_total|_duration_seconds)/.test(block))
    .map((block) => block.trim())
    .join('\n\n');
}

describe('request metrics', () => {
  it('read the same names, labels and values as prom-client counting each request', async () => {
    const request = fc.record({
      tenant: fc.option(fc.constantFrom('contoso', 'fabrikam', 'a"b\\c'), { nil: undefined }),
      outcome: fc.constantFrom('enroll', 'unknown_host', 'rate_limited'),
      status: fc.constantFrom(200, 404, 429),
      seconds: fc.oneof(
        fc.constantFrom(0, 0.0005, 0.001, 0.1, 0.5),
        fc.double({ min: 0, max: 1, noNaN: true }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(request, { maxLength: 60 }), async (requests) => {
        const ours = createMetrics();
        const reference = new Registry();
        const counter = new Counter({
          name: 'mdm_discovery_requests_total',
          help: 'Discovery requests by tenant (configured name, or "none"), outcome and status.',
          labelNames: ['tenant', 'outcome', 'status'],
          registers: [reference],
        });
        const histogram = new Histogram({
          name: 'mdm_discovery_request_duration_seconds',
          help: 'Time from request to response for discovery requests.',
          buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
          registers: [reference],
        });
        for (const r of requests) {
          ours.request(r.tenant, r.outcome, r.status, r.seconds);
          counter.labels(r.tenant ?? 'none', r.outcome, String(r.status)).inc();
          histogram.observe(r.seconds);
        }
        expect(await requestText(ours.registry)).toBe(await requestText(reference));
        // A second scrape reads the same, and counting goes on from there.
        expect(await requestText(ours.registry)).toBe(await requestText(reference));
      }),
      { numRuns: 200 },
    );
  });
});
