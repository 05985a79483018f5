import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { SinkTelemetry } from '../../src/sink/telemetry.js';

const quiet = createLogger({ level: 'silent', destination: { write: () => undefined } });

async function eventTimeLag(metrics: ReturnType<typeof createMetrics>): Promise<number | undefined> {
  // Read as Prometheus does: the scrape runs the gauge's collect().
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith('okta_forwarder_sink_event_time_lag_seconds '));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('the sink event-time lag', () => {
  it('grows at each scrape while nothing new is indexed, and drops when newer events are indexed', async () => {
    let now = Date.UTC(2026, 10, 26, 12, 0, 0);
    const metrics = createMetrics();
    const telemetry = new SinkTelemetry(quiet, metrics, () => now);

    const item = (time: number) => ({ index: 'i', id: String(time), document: { time }, ref: undefined });
    telemetry.bulk(0.01, { indexed: [item(now - 10_000), item(now - 30_000)], retriable: [], rejected: [] });
    expect(await eventTimeLag(metrics)).toBe(10);

    now += 60_000; // Elasticsearch down for a minute: nothing indexed, the lag must show it
    expect(await eventTimeLag(metrics)).toBe(70);

    telemetry.bulk(0.01, { indexed: [item(now - 2_000)], retriable: [], rejected: [] });
    expect(await eventTimeLag(metrics)).toBe(2);
  });
});

/** histogram_quantile as Prometheus computes it: linear interpolation inside the bucket that holds the rank. */
function quantile(q: number, buckets: { le: number; count: number }[]): number {
  const total = buckets.at(-1)!.count;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) return le === Infinity ? lower : lower + ((le - lower) * (rank - below)) / (count - below);
    lower = le;
    below = count;
  }
  return lower;
}

describe('the sink end-to-end latency histogram', () => {
  it('has buckets that tell a 2 s latency from 10 s and 20 s: its p99 stays within a quarter of the real latency', async () => {
    for (const seconds of [2, 4, 10, 20, 45]) {
      const now = Date.UTC(2026, 11, 6, 12, 0, 0);
      const metrics = createMetrics();
      const telemetry = new SinkTelemetry(quiet, metrics, () => now);
      const indexed = Array.from({ length: 100 }, (_, i) => ({ index: 'i', id: String(i), document: { time: now - seconds * 1000 }, ref: undefined }));
      telemetry.bulk(0.01, { indexed, retriable: [], rejected: [] });
      const values = (await metrics.sinkEndToEndLatency.get()).values.filter((v) => v.metricName?.endsWith('_bucket'));
      const buckets = values.map((v) => ({ le: v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), count: v.value }));
      const p99 = quantile(0.99, buckets);
      expect(p99, `p99 of events indexed ${seconds} s after Okta published them`).toBeGreaterThanOrEqual(seconds * 0.75);
      expect(p99, `p99 of events indexed ${seconds} s after Okta published them`).toBeLessThanOrEqual(seconds * 1.25);
    }
  });
});
