import { describe, expect, it } from 'vitest';
import type { PageToPublish } from '../../src/kafka/publisher.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/registry.js';
import type { LogPage } from '../../src/okta/client.js';
import type { EncodedPage } from '../../src/poller/page-encoding.js';
import { PageSlots } from '../../src/poller/page-slots.js';
import { OrgPoller, type CountedPage, type PageSource } from '../../src/poller/poller.js';
import { PollerTelemetry } from '../../src/poller/telemetry.js';
import { scriptedPageEvents, unitOrgConfig } from '../support/scripted-org.js';
import { waitFor } from '../support/wait.js';

const LIMIT = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An org whose log holds `fullPages` full pages then one short page: a source that takes 5 ms
 * per request and 5 ms more to encode, and records what the poller asks and when.
 */
function scriptedOrg(fullPages: number) {
  const requested: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const source: PageSource = {
    pollingUrl: () => 'page-0',
    async getPage(url, onCounted?: (counted: CountedPage) => void): Promise<LogPage<EncodedPage>> {
      requested.push(url);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(5);
      inFlight -= 1;
      const n = Number(url.slice('page-'.length));
      const items = n < fullPages ? LIMIT : 3;
      const nextUrl = `page-${n + 1}`;
      onCounted?.({ items, nextUrl, rateLimit: undefined });
      await sleep(5);
      const events = scriptedPageEvents(n, items);
      return { events: { items, events, rejected: [] }, nextUrl, rateLimit: undefined, bytes: 100 };
    },
  };
  return { source, requested, maxInFlight: () => maxInFlight };
}

describe('the poller reads ahead', () => {
  it('requests the next full pages while one is published, one request at a time, at most two pages ahead, and stops at a short page', async () => {
    const org = scriptedOrg(8);
    const published: { page: string; requestedBefore: number }[] = [];
    const metrics = createMetrics();
    const poller = new OrgPoller({
      org: unitOrgConfig(),
      source: org.source,
      sink: {
        connect: async () => undefined,
        disconnect: async () => undefined,
        async publish(page: PageToPublish) {
          published.push({ page: page.events[0]!.key!.split('-')[1]!, requestedBefore: org.requested.length });
          await sleep(40); // a slow Kafka transaction: the source has time to run ahead
          return { published: page.events.length, deadLettered: 0, oversized: 0 };
        },
      },
      loadCheckpoint: async () => undefined,
      publishedUuidsSince: async () => new Set(),
      telemetry: new PollerTelemetry('acme', createLogger({ level: 'silent', destination: { write: () => undefined } }), metrics),
      limit: LIMIT,
    });
    const handle = poller.start();
    await waitFor(() => published.length === 9, 'the nine pages published', 10_000);
    await sleep(100);
    await handle.stop();

    expect(published.map((p) => p.page)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8']);
    expect(org.maxInFlight()).toBe(1);
    // While page n is published, pages n+1 and n+2 are requested already, never n+3.
    for (const { page, requestedBefore } of published.slice(0, 6)) {
      expect(requestedBefore, `requests made when page ${page} was published`).toBeLessThanOrEqual(Number(page) + 3);
    }
    expect(Math.max(...published.slice(1, 6).map((p) => p.requestedBefore - Number(p.page)))).toBe(3);
    // Page 8 is short (caught up): page 9 waits for the poll interval, it is not read ahead.
    expect(org.requested).toEqual(Array.from({ length: 9 }, (_, n) => `page-${n}`));
    // Request durations are the requests' own (5 ms each here), not the time the loop waited for a page read ahead.
    const duration = (await metrics.oktaRequestDuration.get()).values;
    expect(duration.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(9);
    expect(duration.find((v) => v.metricName?.endsWith('_sum'))?.value).toBeGreaterThanOrEqual(9 * 0.004);
    expect(handle.stats()).toMatchObject({ events: 8 * LIMIT + 3, lastPublished: new Date(Date.UTC(2026, 0, 1, 0, 8, 2)).toISOString() });
  });

  it("shares a process's slots for pages read ahead among its orgs: never more at once, every org's pages all published in order", async () => {
    // Five orgs backfilling at once, two slots: without them, ten pages would be read ahead at once.
    const slots = new PageSlots(2);
    let readAhead = 0;
    let maxReadAhead = 0;
    const orgs = Array.from({ length: 5 }, () => scriptedOrg(6));
    const published = orgs.map(() => [] as string[]);
    const pollers = orgs.map((org, o) => {
      const source: PageSource = {
        pollingUrl: org.source.pollingUrl,
        async getPage(url, onCounted) {
          // Page 0 is each org's first request, not read ahead; the others are.
          const ahead = url !== 'page-0';
          if (ahead) maxReadAhead = Math.max(maxReadAhead, (readAhead += 1));
          try {
            return await org.source.getPage(url, onCounted);
          } finally {
            if (ahead) readAhead -= 1;
          }
        },
      };
      return new OrgPoller({
        org: unitOrgConfig(),
        source,
        sink: {
          connect: async () => undefined,
          disconnect: async () => undefined,
          async publish(page: PageToPublish) {
            published[o]!.push(page.events[0]!.key!.split('-')[1]!);
            await sleep(20);
            return { published: page.events.length, deadLettered: 0, oversized: 0 };
          },
        },
        loadCheckpoint: async () => undefined,
        publishedUuidsSince: async () => new Set(),
        telemetry: new PollerTelemetry(`org-${o}`, createLogger({ level: 'silent', destination: { write: () => undefined } }), createMetrics()),
        limit: LIMIT,
        pageSlots: slots,
      }).start();
    });
    await waitFor(() => published.every((pages) => pages.length === 7), 'every org caught up', 10_000);
    await Promise.all(pollers.map((handle) => handle.stop()));

    for (const pages of published) expect(pages).toEqual(['0', '1', '2', '3', '4', '5', '6']);
    expect(maxReadAhead).toBe(2);
    expect(slots.inUse).toBe(0);
  });

  it('gives a stopping poller its way out of the queue for a slot, holding nothing', async () => {
    const slots = new PageSlots(1);
    const stop = new AbortController();
    const held = await slots.acquire(stop.signal);
    const waiting = slots.acquire(stop.signal);
    stop.abort();
    const nothing = await waiting;
    nothing();
    expect(slots.inUse).toBe(1);
    held();
    expect(slots.inUse).toBe(0);
    // A slot released with nobody waiting is free again; releasing twice frees it once.
    const again = await slots.acquire(new AbortController().signal);
    again();
    again();
    expect(slots.inUse).toBe(0);
  });
});

