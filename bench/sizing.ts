/**
 * Sizing figures beyond raw throughput (bench/poller.ts and bench/sink.ts have those), each
 * measured BENCH_RUNS times and reported as median and range; writes bench/results/sizing.json.
 *
 * Tailing: `okta-forwarder run` reading BENCH_TAIL_ORGS simulated orgs (default 10), each with a
 * small history and live traffic, BENCH_TAIL_RATE events/s in all (default 100). Once the history
 * is searchable, over a steady BENCH_STEADY_SECONDS (default 60): the process's RSS every second
 * (median and highest), its peak RSS (VmHWM, the backfill included), its CPU as a share of one
 * core, where its memory goes (bench/memory-probe.mjs), and freshness: for the events of one org
 * published in that window, the time from Okta's `published` to the first search that finds
 * them in Elasticsearch. Searches run every 250 ms without forcing a refresh, so a figure is the
 * index's own refresh included, and at most 250 ms more than the true moment. The simulator
 * persists every live event at its published time: none is late. Measured twice: with the default
 * adaptive cadence and with the fixed 15 s interval (minPollIntervalSeconds = pollIntervalSeconds = 15).
 *
 * Backfill: `okta-forwarder poll` reading a 60-day history of BENCH_BACKFILL_EVENTS events
 * (default 600,000) from an org whose rate limit is BENCH_BACKFILL_LIMIT requests (default 120) per
 * window of BENCH_BACKFILL_WINDOW_SECONDS (default 15: Okta's minute, shortened so the run takes
 * minutes, while 4,000 events/s stays well within what one poller does, so the rate limit, not
 * the poller, sets the pace), with the default rateLimitShare (0.5). The shortest time that share allows: the
 * requests needed (one per 1,000 events, and the last, shorter page) at `floor(limit x share)` per
 * window, windows reset on the clock as Okta's do, from the first request to the start of the
 * window in which the last one may go. Target: at most 1.05x.
 *
 *   npm run stack -- up && npm run build && npx tsx bench/sizing.ts
 *
 * BENCH_SIZING=tail or =backfill runs one of the two (the other's figures stay as they were in
 * the results file); BENCH_TAIL_CADENCE=adaptive leaves out the fixed-interval tail.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Client } from '@elastic/elasticsearch';
import { loadConfig } from '../src/config/index.js';
import { createElasticsearchClient } from '../src/elasticsearch/client.js';
import { PROJECT_ROOT } from '../src/stack/settings.js';
import {
  cpuMeter,
  forwarderConfig,
  formatSpread,
  knob,
  peakRssMb,
  percentile,
  readResult,
  shortestBackfillMs,
  printTable,
  repeat,
  rssMb,
  sleep,
  spread,
  stackUnderTest,
  startForwarder,
  startSimulatedOrgs,
  writeResult,
} from './support.js';

const TAIL_ORGS = knob('BENCH_TAIL_ORGS', 10);
const TAIL_RATE = knob('BENCH_TAIL_RATE', 100);
const TAIL_HISTORY = knob('BENCH_TAIL_HISTORY', 5_000);
const STEADY_SECONDS = knob('BENCH_STEADY_SECONDS', 60);
/** How long after the steady window an event published in it may still become searchable. */
const FRESHNESS_GRACE_MS = 40_000;
const BACKFILL_EVENTS = knob('BENCH_BACKFILL_EVENTS', 600_000);
const BACKFILL_LIMIT = knob('BENCH_BACKFILL_LIMIT', 120);
const BACKFILL_WINDOW_SECONDS = knob('BENCH_BACKFILL_WINDOW_SECONDS', 15);
const BACKFILL_SHARE = 0.5; // okta.orgs[].rateLimitShare's default
const PAGE = 1000;
const only = process.env.BENCH_SIZING;
/** `adaptive` or `fixed` measures the tail with that cadence only (for memory experiments). */
const cadences = (process.env.BENCH_TAIL_CADENCE ?? 'adaptive,fixed').split(',');

const stack = stackUnderTest();
const es: Client = createElasticsearchClient(
  loadConfig({ env: { ELASTICSEARCH_URL: stack.elasticsearch.url, ELASTICSEARCH_USERNAME: stack.elasticsearch.username, ELASTICSEARCH_PASSWORD: stack.elasticsearch.password } }).config.elasticsearch,
);

/**
 * Seconds from `published` to searchable for the events of `org` published in [from, to): each
 * event's delay is taken at the first search that returns it. Also how many of those events
 * Elasticsearch holds at the end that no search found in time (expected 0).
 */
async function freshness(prefix: string, org: string, from: number, to: number): Promise<{ delays: number[]; missed: number }> {
  const seen = new Map<string, number>();
  while (Date.now() < to + FRESHNESS_GRACE_MS) {
    const sentAt = Date.now();
    const response = await es.search<{ time: number }>({
      index: `${prefix}-*`,
      ignore_unavailable: true,
      size: 10_000,
      _source: ['time'],
      // The last minute only: an event not found within a minute counts as missed.
      query: { bool: { filter: [{ term: { 'metadata.tenant_uid': org } }, { range: { time: { gte: Math.max(from, sentAt - 60_000), lt: to } } }] } },
    });
    for (const hit of response.hits.hits) {
      if (!seen.has(hit._id!)) seen.set(hit._id!, (sentAt - hit._source!.time) / 1000);
    }
    await sleep(Math.max(0, 250 - (Date.now() - sentAt)));
  }
  await es.indices.refresh({ index: `${prefix}-*`, ignore_unavailable: true });
  const { count } = await es.count({ index: `${prefix}-*`, ignore_unavailable: true, query: { bool: { filter: [{ term: { 'metadata.tenant_uid': org } }, { range: { time: { gte: from, lt: to } } }] } } });
  return { delays: [...seen.values()], missed: count - seen.size };
}

interface MemorySample {
  time: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

async function tailOnce(cadence: 'adaptive' | 'fixed') {
  const name = `bench-tail-${Date.now().toString(36)}`;
  const simulator = await startSimulatedOrgs(Array.from({ length: TAIL_ORGS }, () => ({ history: TAIL_HISTORY, historyDays: 2, liveRate: TAIL_RATE / TAIL_ORGS })));
  const orgSettings = cadence === 'fixed' ? { minPollIntervalSeconds: 15, pollIntervalSeconds: 15 } : {};
  const { config, env } = forwarderConfig(stack, { name, orgs: simulator.orgs, orgSettings });
  const memoryFile = join(mkdtempSync(join(tmpdir(), 'okta-forwarder-bench-')), 'memory.ndjson');
  const run = startForwarder('run', {
    config,
    env: { ...env, BENCH_MEMORY_FILE: memoryFile },
    nodeFlags: ['--import', pathToFileURL(join(PROJECT_ROOT, 'bench', 'memory-probe.mjs')).href],
  });
  try {
    await run.waitForLog(/backfill complete/, TAIL_ORGS);
    // Steady state: the history is searchable, only live traffic is left.
    for (;;) {
      const { count } = await es.count({ index: `${name}-*`, ignore_unavailable: true });
      if (count >= TAIL_ORGS * TAIL_HISTORY) break;
      await sleep(1000);
    }
    const from = Date.now();
    const to = from + STEADY_SECONDS * 1000;
    const cpu = cpuMeter({ run: run.pid });
    const fresh = freshness(name, simulator.orgs[0]!.id, from, to);
    const rss: number[] = [];
    while (Date.now() < to) {
      await sleep(1000);
      rss.push(rssMb(run.pid));
    }
    const cpuShare = cpu().run! / STEADY_SECONDS;
    const { delays, missed } = await fresh;
    const memory = readFileSync(memoryFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as MemorySample)
      .filter((sample) => sample.time >= from && sample.time < to);
    const steadyMedian = (key: keyof MemorySample) => spread(memory.map((sample) => sample[key])).median;
    return {
      freshnessP50Seconds: percentile(delays, 50),
      freshnessP99Seconds: percentile(delays, 99),
      freshnessSamples: delays.length,
      freshnessMissed: missed,
      cpuShareOfCore: cpuShare,
      steadyRssMedianMb: spread(rss).median,
      steadyRssHighestMb: Math.max(...rss),
      peakRssMb: peakRssMb(run.pid),
      heapUsedMb: steadyMedian('heapUsed'),
      heapTotalMb: steadyMedian('heapTotal'),
      externalMb: steadyMedian('external'),
      arrayBuffersMb: steadyMedian('arrayBuffers'),
    };
  } finally {
    await run.stop();
    simulator.stop();
    await es.indices.delete({ index: `${name}-*`, ignore_unavailable: true }).catch(() => undefined);
  }
}

async function backfillOnce() {
  const name = `bench-backfill-${Date.now().toString(36)}`;
  const simulator = await startSimulatedOrgs([
    { history: BACKFILL_EVENTS, historyDays: 59.9, rateLimitPerMinute: BACKFILL_LIMIT, rateLimitWindowSeconds: BACKFILL_WINDOW_SECONDS },
  ]);
  const { config, env } = forwarderConfig(stack, { name, orgs: simulator.orgs, orgSettings: { rateLimitShare: BACKFILL_SHARE } });
  const poll = startForwarder('poll', { config, env });
  try {
    const completeAt = await poll.waitForLog(/backfill complete/);
    const [requests] = await simulator.requests();
    const needed = Math.floor(BACKFILL_EVENTS / PAGE) + 1;
    const shortest = shortestBackfillMs(requests!.firstAt, needed, Math.max(1, Math.floor(BACKFILL_LIMIT * BACKFILL_SHARE)), BACKFILL_WINDOW_SECONDS * 1000);
    const seconds = (completeAt - requests!.firstAt) / 1000;
    return {
      backfillSeconds: seconds,
      shortestSeconds: shortest / 1000,
      toShortest: seconds / (shortest / 1000),
      // From the first request to the last: the pacing alone, without the last page's processing.
      lastRequestSeconds: (requests!.lastAt - requests!.firstAt) / 1000,
      requests: requests!.requests,
      refused: requests!.refused,
      pollerPeakRssMb: peakRssMb(poll.pid),
    };
  } finally {
    await poll.stop();
    simulator.stop();
  }
}

const figures: Record<string, unknown> = only ? (readResult('sizing')?.figures ?? {}) : {};
try {
  if (!only || only === 'tail') {
    const settings = { orgs: TAIL_ORGS, eventsPerSecond: TAIL_RATE, historyPerOrg: TAIL_HISTORY, steadySeconds: STEADY_SECONDS };
    const adaptive = await repeat('tail, adaptive cadence', () => tailOnce('adaptive'));
    const fixed = cadences.includes('fixed') ? await repeat('tail, fixed 15 s interval', () => tailOnce('fixed')) : adaptive;
    figures.tail = { settings, adaptive, ...(cadences.includes('fixed') ? { fixed } : {}) };
    printTable(`run tailing ${TAIL_ORGS} orgs at ${TAIL_RATE} events/s: median (range)`, [
      ['freshness p50 / p99, s, adaptive (default)', `${formatSpread(adaptive.freshnessP50Seconds, 1)} / ${formatSpread(adaptive.freshnessP99Seconds, 1)}`],
      ['freshness p50 / p99, s, fixed 15 s interval', `${formatSpread(fixed.freshnessP50Seconds, 1)} / ${formatSpread(fixed.freshnessP99Seconds, 1)}`],
      ['events sampled / missed (adaptive)', `${formatSpread(adaptive.freshnessSamples)} / ${formatSpread(adaptive.freshnessMissed)}`],
      ['CPU, share of one core (adaptive / fixed)', `${formatSpread(adaptive.cpuShareOfCore, 3)} / ${formatSpread(fixed.cpuShareOfCore, 3)}`],
      ['steady RSS median, MB (target 150)', formatSpread(adaptive.steadyRssMedianMb)],
      ['steady RSS highest, MB', formatSpread(adaptive.steadyRssHighestMb)],
      ['peak RSS with the backfill, MB (target 200)', formatSpread(adaptive.peakRssMb)],
      ['main V8 heap used / reserved, MB', `${formatSpread(adaptive.heapUsedMb)} / ${formatSpread(adaptive.heapTotalMb)}`],
      ['external / of which Buffers, MB', `${formatSpread(adaptive.externalMb)} / ${formatSpread(adaptive.arrayBuffersMb)}`],
    ]);
  }
  if (!only || only === 'backfill') {
    const settings = { events: BACKFILL_EVENTS, historyDays: 60, rateLimit: BACKFILL_LIMIT, windowSeconds: BACKFILL_WINDOW_SECONDS, rateLimitShare: BACKFILL_SHARE };
    const backfill = await repeat('backfill', () => backfillOnce());
    figures.backfill = { settings, ...backfill };
    printTable(
      `backfill of ${BACKFILL_EVENTS.toLocaleString('en-US')} events, ${BACKFILL_LIMIT} requests per ${BACKFILL_WINDOW_SECONDS} s window, share ${BACKFILL_SHARE}: median (range)`,
      [
        ['measured, s', formatSpread(backfill.backfillSeconds, 1)],
        ['first request to last, s', formatSpread(backfill.lastRequestSeconds, 1)],
        ['shortest the share allows, s', formatSpread(backfill.shortestSeconds, 1)],
        ['measured / shortest (target 1.05)', formatSpread(backfill.toShortest, 3)],
        ['requests / refused (429)', `${formatSpread(backfill.requests)} / ${formatSpread(backfill.refused)}`],
        ['poller peak RSS, MB', formatSpread(backfill.pollerPeakRssMb)],
      ],
    );
  }
  writeResult('sizing', figures);
} finally {
  await es.close();
}
