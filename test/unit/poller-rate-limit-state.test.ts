import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { EncodedEvent } from '../../src/kafka/messages.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { OktaError, type LogPage } from '../../src/okta/client.js';
import type { RateLimitSnapshot } from '../../src/okta/rate-limit.js';
import type { EncodedPage } from '../../src/poller/page-encoding.js';
import { OrgPoller, type CountedPage, type PageSource } from '../../src/poller/poller.js';
import { ConnectorStatus, type StateChange } from '../../src/poller/state.js';
import { PollerTelemetry } from '../../src/poller/telemetry.js';
import { tempDir } from '../support/temp.js';

const LIMIT = 10;
const START = Date.UTC(2026, 11, 6, 12, 0, 0);

function orgConfig(rateLimitShare: number) {
  const file = join(tempDir('okta-forwarder-unit-'), 'config.json');
  writeFileSync(file, JSON.stringify({ okta: { orgs: [{ id: 'acme', domain: 'acme.okta.com', auth: { tokenEnv: 'OKTA_TOKEN_TEST' }, pollIntervalSeconds: 3600, rateLimitShare }] } }));
  return loadConfig({ file, env: { OKTA_TOKEN_TEST: 'x' } }).config.okta.orgs[0]!;
}

function page(n: number, items: number, rateLimit: RateLimitSnapshot | undefined): LogPage<EncodedPage> {
  const events: EncodedEvent[] = Array.from({ length: items }, (_, i) => ({
    key: `uuid-${n}-${i}`,
    eventType: 'user.session.start',
    published: new Date(START - 3_600_000 + n * 1000 + i).toISOString(),
    value: Buffer.from([n, i]),
  }));
  return { events: { items, events, rejected: [] }, nextUrl: `page-${n + 1}`, rateLimit, bytes: 100 };
}

/** A poller over a scripted org on the fake clock, with its log lines (all levels) and metrics. */
function pollerOver(source: PageSource, rateLimitShare: number) {
  const lines: { level: string; msg: string; state?: string }[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) } });
  const metrics = createMetrics();
  const poller = new OrgPoller({
    org: orgConfig(rateLimitShare),
    source,
    sink: { connect: async () => undefined, disconnect: async () => undefined, publish: async (p) => ({ published: p.events.length, deadLettered: 0, oversized: 0 }) },
    loadCheckpoint: async () => undefined,
    publishedUuidsSince: async () => new Set(),
    telemetry: new PollerTelemetry('acme', logger, metrics, () => Date.now()),
    limit: LIMIT,
    now: () => Date.now(),
    random: () => 0,
  });
  const waited = async (cause: string) =>
    (await metrics.rateLimitWait.get()).values.find((v) => v.labels.cause === cause)?.value ?? 0;
  return { handle: poller.start(), lines, metrics, waited };
}

describe('the connector state while the poller waits for its rate budget', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: START, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is rate_limited for as long as a read-ahead request waits for the next window, whatever the main loop publishes meanwhile, and says so at debug only', async () => {
    // The org allows 4 requests in a window ending 40 s from now; a share of 0.5 is 2 of them.
    const firstWindow = { limit: 4, resetAtMs: START + 40_000 };
    const requested: { url: string; atMs: number }[] = [];
    const source: PageSource = {
      pollingUrl: () => 'page-0',
      async getPage(url, onCounted?: (counted: CountedPage) => void) {
        const n = Number(url.slice('page-'.length));
        requested.push({ url, atMs: Date.now() });
        const inFirstWindow = Date.now() < firstWindow.resetAtMs;
        const rateLimit = inFirstWindow
          ? { ...firstWindow, remaining: 4 - requested.length }
          : { limit: 4, remaining: 3, resetAtMs: START + 100_000 };
        const result = page(n, n < 2 ? LIMIT : 3, rateLimit);
        onCounted?.({ items: result.events.items, nextUrl: result.nextUrl, rateLimit });
        return result;
      },
    };
    const { handle, lines, waited } = pollerOver(source, 0.5);

    await vi.advanceTimersByTimeAsync(1_000);
    // page-0 read; page-1 follows a full page (a backlog), so it goes at once, not spaced over the
    // window; page-2, read ahead, waits for the window's reset: the share (2 of 4) is spent.
    expect(requested.map((r) => r.url)).toEqual(['page-0', 'page-1']);
    expect(requested[1]!.atMs).toBe(START);
    expect(handle.stats().pages).toBe(2);
    expect(handle.stats().state).toBe('rate_limited');
    for (const atMs of [START + 25_000, START + 35_000, START + 40_000]) {
      await vi.advanceTimersByTimeAsync(atMs - Date.now());
      expect(handle.stats().state, `state at ${(atMs - START) / 1000} s`).toBe('rate_limited');
    }

    await vi.advanceTimersByTimeAsync(1_000);
    // The window reset: page-2 (short) was read, the org is caught up.
    expect(requested.map((r) => r.url)).toEqual(['page-0', 'page-1', 'page-2']);
    expect(requested[2]!.atMs).toBeGreaterThanOrEqual(START + 40_000);
    expect(handle.stats().state).toBe('connected');
    expect(await waited('pacing')).toBe(0);
    expect(await waited('share')).toBeCloseTo(40.25, 1);
    expect(await waited('org_budget')).toBe(0);

    // Waiting within the forwarder's own share is the rate limit working: no warning, no error.
    const states = lines.filter((l) => l.state !== undefined);
    // The first state is rate_limited: page-2 waits before the main loop has published page-0.
    expect(states.map((l) => `${l.level} ${l.state}`)).toEqual(['debug rate_limited', 'debug backfilling', 'info connected']);
    expect(lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    const stopping = handle.stop();
    await vi.advanceTimersByTimeAsync(0);
    await stopping;
  });

  it("warns once per episode when Okta's own limit stops the org (429s, or the whole org's budget spent), and counts the wait", async () => {
    let calls = 0;
    const source: PageSource = {
      pollingUrl: () => 'page-0',
      async getPage(url, onCounted?: (counted: CountedPage) => void) {
        calls += 1;
        // Two 429s in a row; then pages, the second of which reports the org's whole budget spent (by others).
        if (calls <= 2) throw new OktaError('OF_OKTA_RATE_LIMITED', 'Okta acme.okta.com answered 429 E0000047 (API call exceeded rate limit due to too many requests.)', { status: 429, retryAtMs: Date.now() + 10_000 });
        // A page takes 0.5 s to arrive, so the two episodes are apart in time.
        await new Promise((resolve) => setTimeout(resolve, 500));
        const n = Number(url.slice('page-'.length));
        const rateLimit = calls === 4 ? { limit: 100, remaining: 0, resetAtMs: Date.now() + 30_000 } : { limit: 100, remaining: 90, resetAtMs: Date.now() + 60_000 };
        const result = page(n, n < 2 ? LIMIT : 3, rateLimit);
        onCounted?.({ items: result.events.items, nextUrl: result.nextUrl, rateLimit });
        return result;
      },
    };
    const { handle, lines, waited } = pollerOver(source, 0.5);

    const stateAt = async (seconds: number) => {
      await vi.advanceTimersByTimeAsync(START + seconds * 1000 - Date.now());
      return handle.stats().state;
    };
    expect(await stateAt(1)).toBe('rate_limited');
    expect(await stateAt(15)).toBe('rate_limited');
    // The 429s are over at 20.5 s: page-0 arrives at 21 s, page-1 (a backlog) is asked at once.
    expect(await stateAt(21.2)).toBe('backfilling');
    expect(calls).toBe(4);
    // page-1 (21.5 s) said the org has nothing left: page-2 waits for Okta's reset, 30 s later.
    expect(await stateAt(30)).toBe('rate_limited');
    expect(calls).toBe(4);
    expect(await stateAt(51)).toBe('rate_limited');
    expect(await stateAt(53)).toBe('connected');
    expect(calls).toBe(5);

    expect(await waited('too_many_requests')).toBeCloseTo(20.5, 1);
    expect(await waited('org_budget')).toBeGreaterThan(29);
    const states = lines.filter((l) => l.state !== undefined).map((l) => `${l.level} ${l.state}`);
    expect(states).toEqual(['warn rate_limited', 'info backfilling', 'warn rate_limited', 'info backfilling', 'info connected']);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    const stopping = handle.stop();
    await vi.advanceTimersByTimeAsync(0);
    await stopping;
  });
});

describe('ConnectorStatus', () => {
  it('shows the state the org is in: a budget wait keeps rate_limited over the main loop, a state that needs the operator wins over both', () => {
    const changes: StateChange[] = [];
    const status = new ConnectorStatus((change) => changes.push(change));
    status.setLoopState('backfilling', 'reading');
    const first = status.waitingForBudget('share', 'share spent');
    const second = status.waitingForBudget('share', 'share spent');
    status.setLoopState('backfilling', 'reading');
    expect(status.state).toBe('rate_limited');
    first();
    first();
    expect(status.state).toBe('rate_limited');
    status.setLoopState('unauthorized', 'token revoked');
    expect(status.state).toBe('unauthorized');
    status.setLoopState('backfilling', 'reading');
    expect(status.state).toBe('rate_limited');
    second();
    expect(status.state).toBe('backfilling');
    expect(changes.map((c) => `${c.from ?? '-'}>${c.to}:${c.rateLimitedBy ?? ''}`)).toEqual([
      '->backfilling:',
      'backfilling>rate_limited:share',
      'rate_limited>unauthorized:',
      'unauthorized>rate_limited:share',
      'rate_limited>backfilling:share',
    ]);
  });
});
