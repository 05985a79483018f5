import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_NEEDS_ATTENTION } from '../../src/cli/exit-codes.js';
import { loadConfig } from '../../src/config/index.js';
import { ForwarderError } from '../../src/errors.js';
import type { Checkpoint } from '../../src/kafka/checkpoints.js';
import { createLogger } from '../../src/logging/logger.js';
import { registerSecret } from '../../src/logging/secrets.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { OrgPoller, type PollerStats } from '../../src/poller/poller.js';
import { CONNECTOR_STATES, WHAT_TO_DO } from '../../src/poller/state.js';
import { PollerTelemetry } from '../../src/poller/telemetry.js';
import {
  attentionItems,
  elasticsearchFromSink,
  elasticsearchStatus,
  orgStatusFromKafka,
  orgStatusFromPoller,
  processStatus,
  sinkStatus,
  statusExitCode,
  type ClusterStatus,
} from '../../src/status/report.js';
import { formatStatusTable } from '../../src/status/table.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const NOW = Date.parse('2026-12-06T12:00:00.000Z');
const iso = (msAgo: number) => new Date(NOW - msAgo).toISOString();
const MINUTE = 60_000;

function checkpoint(overrides: Partial<Checkpoint> = {}): Checkpoint {
  return { version: 1, org: 'acme', nextUrl: 'https://acme.okta.com/api/v1/logs?after=x', since: iso(60 * 86_400_000), lastPublished: iso(5_000), events: 1234, committedAt: iso(2_000), ...overrides };
}

function fromKafka(input: { checkpoint?: Checkpoint; owner?: string }) {
  return orgStatusFromKafka({ org: 'acme', checkpoint: input.checkpoint, owner: input.owner, nowMs: NOW, staleAfterSeconds: 3600 });
}

function pollerStats(overrides: Partial<PollerStats> = {}): PollerStats {
  return {
    org: 'acme',
    state: 'connected',
    stateSince: iso(10 * MINUTE),
    reason: 'caught up with Okta',
    rateLimitShareUsed: 0.05,
    pages: 3,
    events: 1234,
    lastPublished: iso(3_000),
    progress: { ratio: 1, events: 1234, eventsPerSecond: 0, etaSeconds: 0, caughtUp: true },
    waitingFor: undefined,
    ...overrides,
  };
}

function cluster(overrides: Partial<ClusterStatus> = {}): ClusterStatus {
  return {
    checkedAt: new Date(NOW).toISOString(),
    orgs: [fromKafka({ checkpoint: checkpoint(), owner: 'host-a/42' })],
    pollerGroup: { group: 'okta-forwarder-pollers', state: 'Stable', members: [{ process: 'host-a/42', slots: [3] }] },
    sink: sinkStatus({ group: 'okta-forwarder-sink', groupState: 'Stable', members: 1, readAt: undefined, partitions: [{ partition: 0, committed: '10', end: '10', lag: 0 }], maxLag: 10_000 }),
    elasticsearch: elasticsearchStatus({ health: 'green', clusterName: 'logs', documentsLast24h: 12_345, byOrg: { acme: 12_345 } }),
    ...overrides,
  };
}

describe('an org as Kafka alone shows it', () => {
  it('is connected when a poller holds it and its last checkpoint is fresh and caught up', () => {
    const status = fromKafka({ checkpoint: checkpoint(), owner: 'host-a/42' });
    expect(status).toMatchObject({ state: 'connected', owner: 'host-a/42', since: iso(2_000), newestEvent: iso(5_000), pollLagSeconds: 5, events: 1234, attention: false });
    expect(status.backfill).toEqual({ ratio: 1, etaSeconds: 0, caughtUp: true });
    expect(status.whatToDo).toBeUndefined();
  });

  it('is backfilling when its fresh checkpoint carries old events, with the share of the window covered', () => {
    const status = fromKafka({ checkpoint: checkpoint({ since: iso(100 * MINUTE), lastPublished: iso(50 * MINUTE), committedAt: iso(0) }), owner: 'host-a/42' });
    expect(status).toMatchObject({ state: 'backfilling', attention: false });
    expect(status.backfill?.ratio).toBeCloseTo(0.5);
    expect(status.backfill?.caughtUp).toBe(false);
  });

  it('has no owner when no poller holds it: the reason says since when nothing committed, and what to start', () => {
    const status = fromKafka({ checkpoint: checkpoint({ committedAt: iso(3 * 3_600_000) }) });
    expect(status).toMatchObject({ state: 'no owner', owner: undefined, attention: true });
    expect(status.reason).toBe('no poller holds it; its last checkpoint was committed 3h00m ago');
    expect(status.whatToDo).toContain('start `okta-forwarder poll` (or `run`)');
  });

  it('is not started with neither a checkpoint nor an owner', () => {
    expect(fromKafka({})).toMatchObject({ state: 'not started', attention: true, newestEvent: undefined, events: undefined, backfill: undefined });
  });

  it('is starting when held without a checkpoint yet, and stale when held with an old one: both send the operator to the owner', () => {
    const starting = fromKafka({ owner: 'host-b/7' });
    expect(starting).toMatchObject({ state: 'starting', attention: true });
    expect(starting.whatToDo).toContain('host-b/7');
    const stale = fromKafka({ checkpoint: checkpoint({ committedAt: iso(3_600_000 + 1000) }), owner: 'host-b/7' });
    expect(stale).toMatchObject({ state: 'stale', attention: true });
    expect(stale.reason).toContain('committed no checkpoint for 1h00m');
    expect(stale.whatToDo).toContain('host-b/7');
    expect(fromKafka({ checkpoint: checkpoint({ committedAt: iso(3_600_000 - 1000) }), owner: 'host-b/7' }).state).toBe('connected');
  });

  it('treats a checkpoint with an unreadable commit time as stale, and an unreadable event time as no poll lag', () => {
    const status = fromKafka({ checkpoint: checkpoint({ committedAt: 'garbage', lastPublished: 'not a time' }), owner: 'host-a/42' });
    expect(status).toMatchObject({ state: 'stale', pollLagSeconds: undefined, backfill: undefined });
  });
});

describe('an org as its poller sees it', () => {
  it('takes the poller state, since when and why, with what to do for every state that needs a person', () => {
    for (const state of CONNECTOR_STATES) {
      const status = orgStatusFromPoller(pollerStats({ state, reason: `why ${state}` }), { owner: 'host-a/42', rateLimitShare: 0.5, nowMs: NOW });
      const working = state === 'connected' || state === 'backfilling' || state === 'rate_limited';
      expect(status).toMatchObject({ state, since: iso(10 * MINUTE), reason: `why ${state}`, attention: !working, rateLimit: { shareUsed: 0.05, share: 0.5 } });
      expect(status.whatToDo).toBe(working ? undefined : WHAT_TO_DO[state]);
      expect(WHAT_TO_DO[state].length).toBeGreaterThan(5);
    }
  });

  it('needs attention while its poller waits for Kafka, whatever Okta says', () => {
    const status = orgStatusFromPoller(pollerStats({ waitingFor: 'Kafka: connection refused' }), { owner: 'h/1', rateLimitShare: 1, nowMs: NOW });
    expect(status).toMatchObject({ state: 'connected', attention: true, reason: 'Kafka: connection refused' });
    expect(status.whatToDo).toContain('Kafka');
  });

  it('is not a problem while starting', () => {
    expect(orgStatusFromPoller(pollerStats({ state: 'starting', reason: undefined }), { owner: 'h/1', rateLimitShare: 1, nowMs: NOW }).attention).toBe(false);
  });

  it('comes from the live poller: its state, since when, the error as reason, and the rate limit share it used', async () => {
    const file = join(tempDir('okta-forwarder-unit-'), 'config.json');
    writeFileSync(file, JSON.stringify({ okta: { orgs: [{ id: 'acme', domain: 'acme.okta.com', auth: { tokenEnv: 'OKTA_TOKEN_TEST' }, rateLimitShare: 0.5 }] } }));
    const org = loadConfig({ file, env: { OKTA_TOKEN_TEST: 'x' } }).config.okta.orgs[0]!;
    let requests = 0;
    const poller = new OrgPoller({
      org,
      limit: 2,
      source: {
        pollingUrl: () => 'page-0',
        async getPage(url) {
          requests += 1;
          if (url !== 'page-0') throw new ForwarderError('OF_OKTA_UNAUTHORIZED', 'polling acme.okta.com: 401 E0000011 Invalid token provided');
          const events = [0, 1].map((i) => ({ key: `uuid-${i}`, eventType: 'user.session.start', published: iso(1000 - i), value: Buffer.from([i]) }));
          return { events: { items: 2, events, rejected: [] }, nextUrl: 'page-1', rateLimit: { limit: 100, remaining: 99, resetAtMs: Date.now() + 60_000 }, bytes: 10 };
        },
      },
      sink: { connect: async () => undefined, disconnect: async () => undefined, publish: async (page) => ({ published: page.events.length, deadLettered: 0, oversized: 0 }) },
      loadCheckpoint: async () => undefined,
      publishedUuidsSince: async () => new Set(),
      telemetry: new PollerTelemetry('acme', createLogger({ level: 'silent', destination: { write: () => undefined } }), createMetrics()),
    });
    const before = Date.now();
    const handle = poller.start();
    try {
      const stats = await waitFor(() => (handle.stats().state === 'unauthorized' ? handle.stats() : undefined), 'the unauthorized state', 5_000);
      expect(requests).toBeGreaterThanOrEqual(2);
      expect(stats.reason).toBe('polling acme.okta.com: 401 E0000011 Invalid token provided');
      expect(Date.parse(stats.stateSince)).toBeGreaterThanOrEqual(before);
      expect(stats.rateLimitShareUsed).toBe(0.01);
      const status = orgStatusFromPoller(stats, { owner: 'h/1', rateLimitShare: org.rateLimitShare, nowMs: Date.now() });
      expect(status).toMatchObject({ state: 'unauthorized', attention: true, whatToDo: WHAT_TO_DO.unauthorized, events: 2, rateLimit: { shareUsed: 0.01, share: 0.5 } });
    } finally {
      await handle.stop();
    }
  });
});

describe('the sink and Elasticsearch', () => {
  const lag = (values: number[]) => values.map((value, partition) => ({ partition, committed: '5', end: String(5 + value), lag: value }));

  it('needs attention when records wait and no sink is in the group, or a partition is further behind than allowed', () => {
    expect(sinkStatus({ group: 'g', groupState: 'Empty', members: 0, readAt: undefined, partitions: lag([0, 0]), maxLag: 100 }).attention).toBe(false);
    const idle = sinkStatus({ group: 'g', groupState: 'Empty', members: 0, readAt: undefined, partitions: lag([3, 0]), maxLag: 100 });
    expect(idle).toMatchObject({ attention: true, totalLag: 3, reason: '3 record(s) wait and no sink is in the group' });
    expect(idle.whatToDo).toContain('okta-forwarder sink');
    const behind = sinkStatus({ group: 'g', groupState: 'Stable', members: 2, readAt: undefined, partitions: lag([50, 101, 7]), maxLag: 100 });
    expect(behind).toMatchObject({ attention: true, totalLag: 158 });
    expect(behind.reason).toBe('partition(s) 1 (101) more than 100 records behind');
    expect(sinkStatus({ group: 'g', groupState: 'Stable', members: 2, readAt: undefined, partitions: lag([100]), maxLag: 100 }).attention).toBe(false);
  });

  it('needs attention when Elasticsearch cannot be asked or is red; yellow is well', () => {
    expect(elasticsearchStatus({ error: 'connect ECONNREFUSED' })).toMatchObject({ state: 'unreachable', attention: true, documentsLast24h: undefined });
    expect(elasticsearchStatus({ health: 'red', clusterName: 'c', documentsLast24h: 0, byOrg: {} }).attention).toBe(true);
    expect(elasticsearchStatus({ health: 'yellow', clusterName: 'c', documentsLast24h: 20_000, byOrg: {} })).toMatchObject({ attention: false, documentsLast24h: 20_000 });
    expect(elasticsearchFromSink({ indexed: 3, waitingForElasticsearch: true, elasticsearchWaitReason: '403 cluster_block_exception' })).toMatchObject({ state: 'waiting', attention: true });
    expect(elasticsearchFromSink({ indexed: 3, waitingForElasticsearch: false })).toMatchObject({ state: 'indexing', attention: false });
  });
});

describe('the exit code and the table', () => {
  it('exits 0 when all is well and EXIT_NEEDS_ATTENTION for any org, sink or Elasticsearch problem', () => {
    expect(EXIT_NEEDS_ATTENTION).toBe(4);
    expect(statusExitCode(cluster())).toBe(0);
    expect(statusExitCode(cluster({ orgs: [fromKafka({ checkpoint: checkpoint() })] }))).toBe(EXIT_NEEDS_ATTENTION);
    expect(statusExitCode(cluster({ sink: sinkStatus({ group: 'g', groupState: 'Empty', members: 0, readAt: undefined, partitions: [{ partition: 0, committed: undefined, end: '4', lag: 4 }], maxLag: 10 }) }))).toBe(EXIT_NEEDS_ATTENTION);
    expect(statusExitCode(cluster({ elasticsearch: elasticsearchStatus({ error: 'timeout' }) }))).toBe(EXIT_NEEDS_ATTENTION);
    expect(attentionItems(cluster({ orgs: [fromKafka({}), fromKafka({ checkpoint: checkpoint(), owner: 'h/1' })], elasticsearch: elasticsearchStatus({ error: 'x' }) }))).toEqual([
      'acme: not started',
      'elasticsearch: unreachable',
    ]);
  });

  it('shows one aligned row per org, its reason and what to do below, the partitions, Elasticsearch, and what needs attention', () => {
    const text = formatStatusTable(
      cluster({
        orgs: [
          fromKafka({ checkpoint: checkpoint(), owner: 'host-a/42' }),
          { ...fromKafka({ checkpoint: checkpoint({ org: 'globex-long-name', committedAt: iso(7_200_000) }) }), org: 'globex-long-name' },
        ],
      }),
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('okta-forwarder status at 2026-12-06T12:00:00.000Z');
    const header = lines.find((line) => line.startsWith('ORG'))!;
    const acme = lines.find((line) => line.startsWith('acme '))!;
    const globex = lines.find((line) => line.startsWith('globex-long-name '))!;
    // Columns line up under their titles.
    for (const [title, acmeCell, globexCell] of [
      ['STATE', 'connected', 'no owner'],
      ['OWNER', 'host-a/42', 'none'],
      ['EVENTS', '1,234', '1,234'],
    ] as const) {
      expect(acme.indexOf(acmeCell), title).toBe(header.indexOf(title));
      expect(globex.indexOf(globexCell), title).toBe(header.indexOf(title));
    }
    expect(acme).toContain('2s ago');
    expect(acme).toContain(' done ');
    expect(text).toContain('    reason: no poller holds it; its last checkpoint was committed 2h00m ago\n    what to do: start `okta-forwarder poll`');
    expect(text).toContain('Sink group okta-forwarder-sink: Stable, 1 member(s), lag 0\nPARTITION  COMMITTED  END  LAG\n0          10         10   0\n');
    expect(text).toContain('Elasticsearch: green (cluster logs is green); 12,345 document(s) with an event time in the last 24 h (acme 12,345)');
    expect(text.endsWith('Needs attention:\n  - globex-long-name: no owner\n')).toBe(true);
    expect(formatStatusTable(cluster()).endsWith('\nAll is well.\n')).toBe(true);
  });

  it('shows what a group member says of itself as one printable, bounded cell', () => {
    const owner = `evil\u001b[2J\nhost/${'x'.repeat(500)}`;
    const text = formatStatusTable(cluster({ orgs: [fromKafka({ checkpoint: checkpoint(), owner })], pollerGroup: { group: 'g', state: 'Stable', members: [{ process: owner, slots: [1] }] } }));
    // No control character but the newlines between lines.
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    const header = text.split('\n').find((line) => line.startsWith('ORG'))!;
    const acme = text.split('\n').find((line) => line.startsWith('acme '))!;
    expect(acme.indexOf('1,234')).toBe(header.indexOf('EVENTS'));
    expect(acme).toContain('evil?[2J host/xxx');
    expect(acme.length).toBeLessThan(260);
  });

  it('shows only the well-typed facts of a checkpoint someone else wrote', () => {
    const hostile = { ...checkpoint(), events: 'lots', committedAt: 42, lastPublished: null, since: { $gt: '' } } as unknown as Checkpoint;
    const status = fromKafka({ checkpoint: hostile, owner: 'h/1' });
    expect(status).toMatchObject({ state: 'stale', events: undefined, newestEvent: undefined, since: undefined, pollLagSeconds: undefined, backfill: undefined });
    expect(formatStatusTable(cluster({ orgs: [status] }))).not.toContain('NaN');
    const noEvents = fromKafka({ checkpoint: checkpoint({ lastPublished: undefined }), owner: 'h/1' });
    expect(noEvents.state).toBe('connected');
  });

  it('gives durations in the unit a person reads: seconds, minutes, hours, days', () => {
    const lagged = (seconds: number) => formatStatusTable(cluster({ orgs: [fromKafka({ checkpoint: checkpoint({ lastPublished: iso(seconds * 1000) }), owner: 'h/1' })] }));
    expect(lagged(42)).toMatch(/ 42s /);
    expect(lagged(125)).toMatch(/ 2m05s /);
    expect(lagged(3 * 3600 + 300)).toMatch(/ 3h05m /);
    expect(lagged(20 * 86_400 + 7200)).toMatch(/ 20d02h /);
  });

  it('keeps a reason that quotes a multi-line answer on one line', () => {
    const org = { ...fromKafka({ checkpoint: checkpoint() }), reason: 'first line\r\n  second line' };
    const text = formatStatusTable(cluster({ orgs: [org] }));
    expect(text).toContain('    reason: first line second line\n');
  });
});

describe('/status of a process', () => {
  it('says who the process is and what it waits for while starting; lists what needs attention once started', () => {
    const starting = processStatus({ process: 'h/1', command: 'run', startedAtMs: NOW - 1000, nowMs: NOW, starting: true, waitingFor: { Kafka: 'creating the Kafka topics: connection refused' }, service: {} });
    expect(starting).toMatchObject({ process: 'h/1', command: 'run', startedAt: iso(1000), starting: true, orgs: [], attention: [] });
    const started = processStatus({
      process: 'h/1',
      command: 'run',
      startedAtMs: NOW - 1000,
      nowMs: NOW,
      starting: false,
      waitingFor: {},
      service: {
        orgs: [orgStatusFromPoller(pollerStats({ state: 'forbidden', reason: '403' }), { owner: 'h/1', rateLimitShare: 1, nowMs: NOW })],
        elasticsearch: elasticsearchFromSink({ indexed: 0, waitingForElasticsearch: true }),
      },
    });
    expect(started.attention).toEqual(['acme: forbidden', 'elasticsearch: waiting']);
  });

  it('is served as JSON by the metrics listener, scrubbed of secrets', async () => {
    const secret = 'status-canary-0a1b2c3d4e5f';
    registerSecret(secret);
    const server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      registry: createMetrics().registry,
      readiness: () => ({ ready: true, detail: {} }),
      status: () => ({ process: 'h/1', reason: `401 for SSWS ${secret}` }),
    });
    try {
      const { port } = server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/status`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json');
      const text = await response.text();
      expect(text).not.toContain(secret);
      expect(JSON.parse(text)).toMatchObject({ process: 'h/1' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
