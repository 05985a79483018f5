/**
 * The sizing guide's figures from the latest bench/results/{poller,sink,sizing}.json: writes
 * bench/results/sizing.md and replaces the part of docs/performance.md between the
 * `sizing:begin` and `sizing:end` markers with it, so the guide shows what `npm run bench` last
 * measured. Each figure is the median of the runs with their range in parentheses.
 *
 *   npx tsx bench/report.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/stack/settings.js';
import { readResult, RESULTS_DIR, type BenchResult, type Spread } from './support.js';

const poller = readResult('poller');
const sink = readResult('sink');
const sizing = readResult('sizing');
const start = readResult('start');
if (!poller || !sink || !sizing) throw new Error('run bench/poller.ts, bench/sink.ts and bench/sizing.ts first: bench/results/ lacks one of their results');

type Figures = Record<string, Spread>;
const P = poller.figures as Figures;
const S = sink.figures as Figures;
const tail = sizing.figures.tail as { settings: { orgs: number; eventsPerSecond: number; steadySeconds: number }; adaptive: Figures; fixed: Figures };
const backfill = sizing.figures.backfill as Figures & { settings: { events: number; rateLimit: number; windowSeconds: number; rateLimitShare: number } };

const n = (value: number, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const f = (s: Spread, digits = 0) => (s.min === s.max ? n(s.median, digits) : `${n(s.median, digits)} (${n(s.min, digits)}–${n(s.max, digits)})`);
const verdict = (s: Spread, target: number, atMost: boolean) => {
  const ok = (v: number) => (atMost ? v <= target : v >= target);
  return ok(s.max) && ok(s.min) ? 'met' : ok(s.median) ? 'met by the median, not every run' : '**not met**';
};

/**
 * Runs under 3, or other work on the machine: say so beside every figure. Other work is judged by
 * the load before the benchmarks began (bench/start.ts, the same `npm run bench`): the load at the
 * end of a stage counts the benchmark's own processes.
 */
const before = start && start.date <= [poller, sink, sizing].map((r) => r.date).sort()[0]! ? (start.figures as { cpuBusyShare?: number; loadAverage1m: number }) : undefined;
const otherWork = before === undefined || (before.cpuBusyShare !== undefined ? before.cpuBusyShare > 0.25 : before.loadAverage1m > Number(sizing.machine.cores));
const validation = [poller, sink, sizing].some((r) => r.runs < 3) || otherWork;
const startLoad = before
  ? `${before.cpuBusyShare !== undefined ? `CPUs ${Math.round(before.cpuBusyShare * 100)} % busy, ` : ''}load ${before.loadAverage1m}${start?.figures.note ? ` (${String(start.figures.note)})` : ''}`
  : undefined;
const describe = (r: BenchResult) => `${r.date.slice(0, 16).replace('T', ' ')} UTC, ${r.runs} run${r.runs > 1 ? 's' : ''}, load ${r.machine.loadAverage1m} at the end`;
const m = sizing.machine;

const perDay = (cpuSecondsPerMillion: number) => (86_400 * 1e6) / cpuSecondsPerMillion;
const headroom = 0.7;
const million = (events: number) => `${n(events / 1e6)} million`;
/** Events per day a GB carries: processes that fit at their peak RSS, each at `headroom` of its measured rate. */
const perGb = (peakMb: number, perSecond: number) => `${million(Math.floor(1024 / peakMb) * headroom * perSecond * 86_400)} events/day (${n(Math.floor(1024 / peakMb))} processes)`;
const orgRate = tail.settings.eventsPerSecond / tail.settings.orgs;

const lines = [
  validation
    ? '> **Validation run, not the reference figures**: fewer than 3 runs, or other work on the machine (CPUs over 25 % busy, or a load above the cores, before the benchmarks began; or not recorded). The reference figures come from `npm run bench` on a quiet machine.'
    : '> Reference figures: at least 3 runs each, on a machine with nothing else running.',
  '',
  `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node.js ${m.node}; Kafka and Elasticsearch of the local stack on the same cores. Before the benchmarks: ${startLoad ?? 'not recorded'}. Runs: poller ${describe(poller)}; sink ${describe(sink)}; sizing ${describe(sizing)} (the load at the end of a stage includes the benchmark's own processes). Each figure: median (range).`,
  '',
  '**Cost and throughput** (`bench/poller.ts`: ' +
    `${n(Number(poller.figures.events))} events from the simulator, no rate limit, through \`poll\` to Kafka; \`bench/sink.ts\`: ${n(Number(sink.figures.events))} events from a preloaded topic through \`sink\` to Elasticsearch; each beside its baseline in the same run):`,
  '',
  '| Figure | okta-forwarder | Baseline, same run | Target | |',
  '|---|---|---|---|---|',
  `| Poller throughput, events/s | ${f(P.pollerEventsPerSecond!)} | plain KafkaJS produce ${f(P.plainEventsPerSecond!)} | | |`,
  `| Poller / plain produce | ${f(P.pollerToPlain!, 2)} | | ≥ 0.6 | ${verdict(P.pollerToPlain!, 0.6, false)} |`,
  `| Sink throughput, docs/s | ${f(S.sinkDocsPerSecond!)} | plain \`_bulk\` ${f(S.plainDocsPerSecond!)} | | |`,
  `| Sink / plain \`_bulk\` | ${f(S.sinkToPlain!, 2)} | | ≥ 0.8 | ${verdict(S.sinkToPlain!, 0.8, false)} |`,
  `| Poller CPU-seconds per million events | ${f(P.pollerCpuSecondsPerMillion!)} | Kafka ${f(P.kafkaCpuSecondsPerMillion!)} | | |`,
  `| Sink CPU-seconds per million events | ${f(S.sinkCpuSecondsPerMillion!)} | Elasticsearch ${f(S.elasticsearchCpuSecondsPerMillion!)} (plain \`_bulk\`: ${f(S.elasticsearchCpuSecondsPerMillionPlain!)}) | | |`,
  `| Poller peak RSS at full load, MB | ${f(P.pollerPeakRssMb!)} | | ≤ 200 | ${verdict(P.pollerPeakRssMb!, 200, true)} |`,
  `| Sink peak RSS at full load, MB | ${f(S.sinkPeakRssMb!)} | | ≤ 200 | ${verdict(S.sinkPeakRssMb!, 200, true)} |`,
  '',
  `**Tailing** (\`bench/sizing.ts\`: \`run\` reading ${tail.settings.orgs} simulated orgs, ${tail.settings.eventsPerSecond} events/s in all, over a steady ${tail.settings.steadySeconds} s once their history is searchable; freshness of one org's events: Okta's \`published\` to the first search that finds them, searches every 250 ms without forcing a refresh, so the index's 1 s refresh is included and a figure is at most 0.25 s above the true one; the simulator persists no event late):`,
  '',
  '| Figure | Adaptive cadence (default: minPollIntervalSeconds 1) | Fixed 15 s interval (before) | Target | |',
  '|---|---|---|---|---|',
  `| Freshness p50, s | ${f(tail.adaptive.freshnessP50Seconds!, 1)} | ${f(tail.fixed.freshnessP50Seconds!, 1)} | | |`,
  `| Freshness p99, s | ${f(tail.adaptive.freshnessP99Seconds!, 1)} | ${f(tail.fixed.freshnessP99Seconds!, 1)} | | |`,
  `| Events sampled / found late (after a minute) | ${f(tail.adaptive.freshnessSamples!)} / ${f(tail.adaptive.freshnessMissed!)} | ${f(tail.fixed.freshnessSamples!)} / ${f(tail.fixed.freshnessMissed!)} | | |`,
  `| CPU, share of one core | ${f(tail.adaptive.cpuShareOfCore!, 3)} | ${f(tail.fixed.cpuShareOfCore!, 3)} | | |`,
  `| RSS at steady state, median of 1 s samples, MB | ${f(tail.adaptive.steadyRssMedianMb!)} | ${f(tail.fixed.steadyRssMedianMb!)} | ≤ 150 | ${verdict(tail.adaptive.steadyRssMedianMb!, 150, true)} |`,
  `| RSS peak, the backfill included, MB | ${f(tail.adaptive.peakRssMb!)} | ${f(tail.fixed.peakRssMb!)} | ≤ 200 | ${verdict(tail.adaptive.peakRssMb!, 200, true)} |`,
  `| Of the steady RSS: main V8 heap used / reserved, MB | ${f(tail.adaptive.heapUsedMb!)} / ${f(tail.adaptive.heapTotalMb!)} | ${f(tail.fixed.heapUsedMb!)} / ${f(tail.fixed.heapTotalMb!)} | | |`,
  `| Of the steady RSS: external / of which Buffers, MB | ${f(tail.adaptive.externalMb!)} / ${f(tail.adaptive.arrayBuffersMb!)} | ${f(tail.fixed.externalMb!)} / ${f(tail.fixed.arrayBuffersMb!)} | | |`,
  '',
  `**Backfill under a rate limit** (\`bench/sizing.ts\`: \`poll\` reading a 60-day history of ${n(backfill.settings.events)} events from an org allowing ${backfill.settings.rateLimit} requests per ${backfill.settings.windowSeconds} s window, rateLimitShare ${backfill.settings.rateLimitShare}; the shortest time: the requests needed, one per 1,000 events and the last shorter page, at ${Math.floor(backfill.settings.rateLimit * backfill.settings.rateLimitShare)} per window, windows reset on the clock as Okta's are, from the first request to the start of the window in which the last may go):`,
  '',
  '| Figure | Measured | Shortest the share allows | Target | |',
  '|---|---|---|---|---|',
  `| Backfill time, first request to caught up, s | ${f(backfill.backfillSeconds!, 1)} | ${f(backfill.shortestSeconds!, 1)} | | |`,
  `| First request to last, s (the pacing alone) | ${f(backfill.lastRequestSeconds!, 1)} | | | |`,
  `| Measured / shortest | ${f(backfill.toShortest!, 2)} | 1 | ≤ 1.05 | ${verdict(backfill.toShortest!, 1.05, true)} |`,
  `| Requests / answered 429 | ${f(backfill.requests!)} / ${f(backfill.refused!)} | | no 429 | ${backfill.refused!.max === 0 ? 'met' : '**not met**'} |`,
  '',
  '**For operators** (from the medians above). *Per core*: what one core of CPU carries at the measured cost per event. *Per process*: a process\'s measured throughput is its ceiling whatever the cores (one main thread). *Per GB*: how many processes fit in a GB at their peak RSS (the memory is mostly fixed per process, not per org or event, see below), times what each carries with a 0.7 margin:',
  '',
  '| Component | Per core | Per process | Per GB | Add another when |',
  '|---|---|---|---|---|',
  `| \`poll\` | ${million(perDay(P.pollerCpuSecondsPerMillion!.median))} events/day (86,400 × 10⁶ / ${n(P.pollerCpuSecondsPerMillion!.median)} CPU-s per million) | ${n(P.pollerEventsPerSecond!.median)} events/s, ${n(P.pollerPeakRssMb!.median)} MB peak | ${perGb(P.pollerPeakRssMb!.median, P.pollerEventsPerSecond!.median)} | the orgs' summed peak rate passes ${n(headroom * P.pollerEventsPerSecond!.median)} events/s (${headroom} × one poller's): the margin is for a backfill or a catch-up after an outage. One org never needs more than one poller: Okta's limit caps it at limit × rateLimitShare × 1,000 events a minute (60,000 at 120 requests and the default 0.5) |`,
  `| \`sink\` | ${million(perDay(S.sinkCpuSecondsPerMillion!.median))} events/day (86,400 × 10⁶ / ${n(S.sinkCpuSecondsPerMillion!.median)}) | ${n(S.sinkDocsPerSecond!.median)} docs/s, ${n(S.sinkPeakRssMb!.median)} MB peak | ${perGb(S.sinkPeakRssMb!.median, S.sinkDocsPerSecond!.median)} | the sustained rate passes ${n(headroom * S.sinkDocsPerSecond!.median)} docs/s (${headroom} × one sink's), or \`okta_forwarder_sink_consumer_lag\` grows for minutes; at most kafka.eventsPartitions sinks share the topic |`,
  `| \`run\`, tailing | ${n(tail.settings.orgs / tail.adaptive.cpuShareOfCore!.median)} orgs of ${n(orgRate)} events/s (${tail.settings.orgs} orgs / ${n(tail.adaptive.cpuShareOfCore!.median, 3)} of a core) | ${n(tail.adaptive.steadyRssMedianMb!.median)} MB steady, ${n(tail.adaptive.peakRssMb!.median)} MB peak with ${tail.settings.orgs} orgs | ${n(Math.floor(1024 / tail.adaptive.peakRssMb!.median) * tail.settings.orgs)} orgs (${n(Math.floor(1024 / tail.adaptive.peakRssMb!.median))} processes of ${tail.settings.orgs}) | either row above calls for a second process: then run \`poll\` and \`sink\` apart |`,
  `| Elasticsearch | ${million(perDay(S.elasticsearchCpuSecondsPerMillion!.median))} events/day (86,400 × 10⁶ / ${n(S.elasticsearchCpuSecondsPerMillion!.median)}) | | its own heap | it costs more CPU per event than the forwarder: size it first |`,
  `| Kafka | ${million(perDay(P.kafkaCpuSecondsPerMillion!.median))} events/day (86,400 × 10⁶ / ${n(P.kafkaCpuSecondsPerMillion!.median)}) | | | |`,
];

const markdown = `${lines.join('\n')}\n`;
writeFileSync(join(RESULTS_DIR, 'sizing.md'), markdown);
const docs = join(PROJECT_ROOT, 'docs', 'performance.md');
const text = readFileSync(docs, 'utf8');
const begin = '<!-- sizing:begin (written by bench/report.ts) -->';
const end = '<!-- sizing:end -->';
if (text.includes(begin) && text.includes(end)) {
  writeFileSync(docs, `${text.slice(0, text.indexOf(begin) + begin.length)}\n${markdown}${text.slice(text.indexOf(end))}`);
}
process.stdout.write(markdown);
