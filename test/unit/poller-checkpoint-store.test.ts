import { describe, expect, it } from 'vitest';
import { MemoryCheckpointStore } from '../../src/kafka/checkpoint-store.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { OrgPoller, type PageSource } from '../../src/poller/poller.js';
import { PollerTelemetry } from '../../src/poller/telemetry.js';
import { scriptedPageEvents, unitOrgConfig } from '../support/scripted-org.js';
import { waitFor } from '../support/wait.js';

const LIMIT = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const INSTANT = { initialMs: 1, maxMs: 1, multiplier: 1 };

/** An org whose log holds `fullPages` full pages of LIMIT events, then nothing new: page-n links to page-(n+1). */
function logOf(fullPages: number) {
  const requested: string[] = [];
  const source: PageSource = {
    pollingUrl: () => 'page-0',
    async getPage(url, onCounted) {
      requested.push(url);
      await sleep(2);
      const n = Number(url.slice('page-'.length));
      const items = n < fullPages ? LIMIT : 0;
      const nextUrl = n < fullPages ? `page-${n + 1}` : url;
      onCounted?.({ items, nextUrl, rateLimit: undefined });
      const events = scriptedPageEvents(n, items);
      return { events: { items, events, rejected: [] }, nextUrl, rateLimit: undefined, bytes: 100 };
    },
  };
  const allUuids = Array.from({ length: fullPages * LIMIT }, (_, i) => `uuid-${Math.floor(i / LIMIT)}-${i % LIMIT}`);
  return { source, requested, allUuids };
}

function pollerOf(store: MemoryCheckpointStore, source: PageSource, owner = 'host/1') {
  const sink = store.sink('acme');
  const logger = createLogger({ level: 'silent', destination: { write: () => undefined } });
  const poller = new OrgPoller({
    org: unitOrgConfig(),
    source,
    sink,
    loadCheckpoint: () => store.get('acme'),
    publishedUuidsSince: async () => new Set(),
    telemetry: new PollerTelemetry('acme', logger, createMetrics()),
    owner,
    limit: LIMIT,
    retry: { kafka: INSTANT, unreachable: INSTANT, needsOperator: INSTANT },
  });
  return { sink, handle: poller.start() };
}

const committedUuids = (store: MemoryCheckpointStore) => store.committed.map(({ event }) => event.key);

describe('the org poller against its checkpoint store', () => {
  it('continues after its own page: one checkpoint per page, each after the page it covers, every uuid once', async () => {
    const store = new MemoryCheckpointStore();
    const log = logOf(5);
    const { handle } = pollerOf(store, log.source);
    await waitFor(() => store.history.length === 5, 'five pages committed', 5_000);
    await handle.stop();
    expect(committedUuids(store)).toEqual(log.allUuids);
    expect(store.history.map((c) => c.nextUrl)).toEqual(['page-1', 'page-2', 'page-3', 'page-4', 'page-5']);
    expect(store.history.map((c) => c.events)).toEqual([10, 20, 30, 40, 50]);
    expect(new Set(store.history.map((c) => c.owner))).toEqual(new Set(['host/1']));
  });

  it('resumes from the checkpoint it finds, not from the start', async () => {
    const store = new MemoryCheckpointStore();
    store.seed({ version: 1, id: 'earlier', org: 'acme', nextUrl: 'page-3', since: '2026-01-01T00:00:00.000Z', lastPublished: '2026-01-01T00:02:09.000Z', events: 30, committedAt: '2026-01-02T00:00:00.000Z' });
    const log = logOf(5);
    const { handle } = pollerOf(store, log.source);
    await waitFor(() => store.history.length === 2, 'the two remaining pages', 5_000);
    await handle.stop();
    expect(log.requested[0]).toBe('page-3');
    expect(committedUuids(store)).toEqual(log.allUuids.slice(30));
    expect(store.history.at(-1)!.events).toBe(50);
  });

  it('recovers after a failed transaction: a page not committed is published again, a commit whose answer was lost is not', async () => {
    const store = new MemoryCheckpointStore();
    const log = logOf(6);
    store.failNext('not-committed', 'answer-lost', 'not-committed');
    const { handle } = pollerOf(store, log.source);
    await waitFor(() => store.history.length === 6, 'six pages committed', 5_000);
    await handle.stop();
    expect(committedUuids(store)).toEqual(log.allUuids);
    expect(store.history.map((c) => c.events)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('hands an org over: the new owner fences the old one, which stops; the new one goes on from the last committed page, every uuid once', async () => {
    const store = new MemoryCheckpointStore();
    const log = logOf(40);
    const first = pollerOf(store, log.source, 'host/1');
    await waitFor(() => store.history.length >= 5, 'the first owner to commit pages', 5_000);
    // Another process takes the org (as the poller group decided, or as a zombie's successor).
    const second = pollerOf(store, log.source, 'host/2');
    const fenced = await first.handle.done.then(
      () => undefined,
      (err: { code?: string }) => err.code,
    );
    expect(fenced).toBe('OF_KAFKA_FENCED');
    await waitFor(() => store.history.length === 40, 'all forty pages committed', 10_000);
    await second.handle.stop();
    expect(committedUuids(store)).toEqual(log.allUuids);
    const owners = store.history.map((c) => c.owner);
    // One handover: host/1's pages, then host/2's, never interleaved.
    expect(owners.indexOf('host/2')).toBeGreaterThan(0);
    expect(owners.slice(owners.indexOf('host/2')).every((owner) => owner === 'host/2')).toBe(true);
    expect(store.history.map((c) => c.events)).toEqual(Array.from({ length: 40 }, (_, i) => (i + 1) * LIMIT));
  });

  it('a stopped poller commits nothing more: its successor starts where it stopped', async () => {
    const store = new MemoryCheckpointStore();
    const log = logOf(30);
    const first = pollerOf(store, log.source, 'host/1');
    await waitFor(() => store.history.length >= 3, 'the first owner to commit pages', 5_000);
    await first.handle.stop();
    const stoppedAt = store.history.length;
    await sleep(20);
    expect(store.history).toHaveLength(stoppedAt);
    const second = pollerOf(store, log.source, 'host/2');
    await waitFor(() => store.history.length === 30, 'all pages', 10_000);
    await second.handle.stop();
    await expect(first.handle.done).resolves.toBeUndefined();
    expect(committedUuids(store)).toEqual(log.allUuids);
  });
});
