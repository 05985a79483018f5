import { afterEach, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { readToEnd } from '../../src/kafka/read-to-end.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { startPollers } from '../../src/poller/run.js';
import { startSimulator } from '../../src/simulator/index.js';
import { writeTestConfig } from '../support/forwarder.js';
import { uniqueName, waitFor } from '../support/wait.js';

const HOUR = 3_600_000;
/** The freshness target at the default share: a request a second, plus its round trip and the page's transaction. */
const TARGET_P99_MS = 3_000;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

describe('tailing a caught-up org as often as its rate-limit share allows', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('publishes new events within 3 s of Okta having them (p99) with the default share, causes no 429, and backs off when the org goes quiet', { timeout: 180_000 }, async () => {
    const token = uniqueName('token');
    // Okta's default budget for /api/v1/logs (120 a minute) and a minute's window, as in production.
    const sim = await startSimulator({ apiTokens: [token], rateLimitPerMinute: 120, rateLimitWindowSeconds: 60, seed: 11 });
    cleanups.push(() => sim.close());
    const now = Date.now();
    sim.generate(500, { from: now - HOUR, to: now - 1_000 });
    // The default share (0.5) and floor (1 s); a short poll interval only so the quiet phase is short.
    const { config } = writeTestConfig([{ id: 'acme', domain: sim.domain, token }], { org: { rateLimitShare: 0.5, minPollIntervalSeconds: 1, pollIntervalSeconds: 4 } });
    const kafka = createKafka(config.kafka);
    const pollers = await startPollers({ config, kafka, logger: createLogger({ level: 'warn', destination: { write: () => undefined } }), metrics: createMetrics() });
    cleanups.push(() => pollers.stop());
    // The org is this process's once the poller group has given it its slot.
    const handle = await waitFor(() => pollers.handles.get('acme'), 'the poller group to give this process the org', 60_000);
    await waitFor(() => handle.stats().progress?.caughtUp && handle.stats().events === 500, 'the backfill to catch up', 60_000);

    // Ten events a second, published as Okta persists them, for 30 s.
    const measuredFrom = Date.now();
    const stopTraffic = sim.startLiveTraffic(600);
    await new Promise((resolve) => setTimeout(resolve, 30_000));
    stopTraffic();
    const quietFrom = Date.now();
    const expected = sim.eventCount;
    await waitFor(() => handle.stats().events === expected, () => `all ${expected} events published (${handle.stats().events})`, 30_000);

    // Freshness from the records' own times: Kafka's timestamp (set when the page is produced) minus `published`.
    const delays: number[] = [];
    await readToEnd(kafka, config.kafka.topics.events, (message) => {
      const published = Date.parse(message.headers?.published?.toString() ?? '');
      if (published >= measuredFrom) delays.push(Number(message.timestamp) - published);
    });
    const p50 = percentile(delays, 50);
    const p99 = percentile(delays, 99);
    console.info(`adaptive tailing: ${delays.length} live events, published to Kafka p50 ${p50} ms, p99 ${p99} ms`);
    expect(delays.length).toBeGreaterThan(250);
    expect(p99, `p50 ${p50} ms, p99 ${p99} ms`).toBeLessThanOrEqual(TARGET_P99_MS);

    // Quiet: the waits double up to pollIntervalSeconds instead of asking every second.
    await new Promise((resolve) => setTimeout(resolve, 14_000));
    const logRequests = sim.requests.filter((request) => request.path === '/api/v1/logs');
    const quiet = logRequests.filter((request) => request.time >= quietFrom + 1_000).map((request) => request.time);
    const gaps = quiet.slice(1).map((time, i) => time - (quiet[i] as number));
    expect(Math.max(...gaps), `gaps between requests once quiet: ${gaps.join(', ')} ms`).toBeGreaterThanOrEqual(3_500);
    expect(quiet.length, `requests in the 13 quiet seconds: ${quiet.length}`).toBeLessThanOrEqual(6);

    // Never more than the share: not one 429 in the whole run.
    expect(logRequests.filter((request) => request.status === 429)).toEqual([]);
    const flowing = logRequests.filter((request) => request.time >= measuredFrom && request.time < quietFrom);
    console.info(`adaptive tailing: ${flowing.length} requests in the 30 s of traffic (share: 60 a minute)`);
    expect(flowing.length).toBeLessThanOrEqual(31);
  });
});
