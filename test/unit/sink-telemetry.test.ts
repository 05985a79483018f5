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
