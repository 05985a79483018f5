import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric of the forwarder, in one registry. Names follow Prometheus conventions (base
 * units, `_total` for counters); labels are few and bounded: `org` (the configured org ids),
 * `outcome` and `state` (fixed lists). Call sites never touch these directly: the telemetry
 * modules (src/poller/telemetry.ts, …) do, one function per occurrence.
 */
/**
 * Seconds, for the sink's end-to-end latency: a tailing forwarder indexes an event seconds after
 * Okta published it (the poll interval plus Okta's own delay), so the buckets are fine from 1 s
 * to a minute, where a quantile must tell 2 s from 10 s and 20 s (a jump from 15 s to 30 s made
 * every p99 read about 29 s); then coarser up to a week for backfills and outages.
 */
export const END_TO_END_LATENCY_BUCKETS = [0.5, 1, 2, 3, 4, 5, 7.5, 10, 12.5, 15, 20, 25, 30, 45, 60, 90, 120, 300, 900, 3600, 21_600, 86_400, 604_800];

export function createMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry, prefix: 'okta_forwarder_process_' });
  const labels = <T extends string>(...names: T[]) => names;
  const beforePollLagScrape = new Set<() => void>();
  const beforeEventTimeLagScrape = new Set<() => void>();
  return {
    registry,
    /** Callbacks that refresh okta_forwarder_poll_lag_seconds when Prometheus scrapes. */
    beforePollLagScrape,
    /** Callbacks that refresh okta_forwarder_sink_event_time_lag_seconds when Prometheus scrapes: the lag grows while nothing is indexed. */
    beforeEventTimeLagScrape,
    oktaRequests: new Counter({
      name: 'okta_forwarder_okta_requests_total',
      help: 'Requests to the Okta System Log API, by outcome (ok, unauthorized, forbidden, rate_limited, unreachable, bad_request, bad_response, cursor_rejected, foreign_host).',
      labelNames: labels('org', 'outcome'),
      registers: [registry],
    }),
    oktaRequestDuration: new Histogram({
      name: 'okta_forwarder_okta_request_duration_seconds',
      help: 'Duration of requests to the Okta System Log API, from sending to the page received and parsed (read-ahead pages included).',
      labelNames: labels('org'),
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    eventsFetched: new Counter({
      name: 'okta_forwarder_events_fetched_total',
      help: 'Events received from Okta.',
      labelNames: labels('org'),
      registers: [registry],
    }),
    eventsPublished: new Counter({
      name: 'okta_forwarder_events_published_total',
      help: 'Events committed to the Kafka events topic.',
      labelNames: labels('org'),
      registers: [registry],
    }),
    eventsDeadLettered: new Counter({
      name: 'okta_forwarder_events_dead_lettered_total',
      help: 'Items sent to the dead-letter topic, by stage (poll, sink).',
      labelNames: labels('org', 'stage'),
      registers: [registry],
    }),
    eventsDeduplicated: new Counter({
      name: 'okta_forwarder_events_deduplicated_total',
      help: 'Events dropped because they were already published (cursor recovery overlap).',
      labelNames: labels('org'),
      registers: [registry],
    }),
    transactions: new Counter({
      name: 'okta_forwarder_kafka_transactions_total',
      help: 'Kafka transactions of the poller, by result (committed, aborted).',
      labelNames: labels('org', 'result'),
      registers: [registry],
    }),
    pollLag: new Gauge({
      name: 'okta_forwarder_poll_lag_seconds',
      help: 'Now minus the newest `published` time seen for the org.',
      labelNames: labels('org'),
      registers: [registry],
      collect() {
        for (const refresh of beforePollLagScrape) refresh();
      },
    }),
    lastSuccessfulPoll: new Gauge({
      name: 'okta_forwarder_last_successful_poll_timestamp_seconds',
      help: 'When Okta last answered a poll with a page (Unix time).',
      labelNames: labels('org'),
      registers: [registry],
    }),
    rateLimitLimit: new Gauge({
      name: 'okta_forwarder_okta_rate_limit_limit',
      help: 'X-Rate-Limit-Limit of the last Okta response: the org-wide requests per window for /api/v1/logs.',
      labelNames: labels('org'),
      registers: [registry],
    }),
    rateLimitRemaining: new Gauge({
      name: 'okta_forwarder_okta_rate_limit_remaining',
      help: 'X-Rate-Limit-Remaining of the last Okta response.',
      labelNames: labels('org'),
      registers: [registry],
    }),
    rateLimitShareUsed: new Gauge({
      name: 'okta_forwarder_okta_rate_limit_share_used_ratio',
      help: "Share of the org's limit this forwarder used in the current window.",
      labelNames: labels('org'),
      registers: [registry],
    }),
    rateLimitWait: new Counter({
      name: 'okta_forwarder_okta_rate_limit_wait_seconds_total',
      help:
        "Seconds the poller waited for the org's rate budget before a request, by cause (pacing, share, org_budget, too_many_requests): " +
        'pacing spaces requests within the share, share waits for the next window once the share is spent (both by design), ' +
        "org_budget and too_many_requests wait for Okta's reset because the org's whole budget is spent.",
      labelNames: labels('org', 'cause'),
      registers: [registry],
    }),
    backfillProgress: new Gauge({
      name: 'okta_forwarder_backfill_progress_ratio',
      help: 'Share of the initial window [since, now] covered by the events published (1 when caught up).',
      labelNames: labels('org'),
      registers: [registry],
    }),
    backfillEta: new Gauge({
      name: 'okta_forwarder_backfill_eta_seconds',
      help: 'Estimated time until the backfill catches up (0 when caught up).',
      labelNames: labels('org'),
      registers: [registry],
    }),
    sinkRecords: new Counter({
      name: 'okta_forwarder_sink_records_total',
      help: 'Records the sink settled or retried, by outcome (indexed, dead_lettered, retried).',
      labelNames: labels('outcome'),
      registers: [registry],
    }),
    sinkConsumerLag: new Gauge({
      name: 'okta_forwarder_sink_consumer_lag',
      help: "Records of the events topic not yet committed by the sink's consumer group (high watermark minus committed offset), per partition.",
      labelNames: labels('topic', 'partition'),
      registers: [registry],
    }),
    sinkEventTimeLag: new Gauge({
      name: 'okta_forwarder_sink_event_time_lag_seconds',
      help: 'Now minus the newest `published` time indexed in Elasticsearch.',
      registers: [registry],
      collect() {
        for (const refresh of beforeEventTimeLagScrape) refresh();
      },
    }),
    sinkBulkDuration: new Histogram({
      name: 'okta_forwarder_sink_bulk_duration_seconds',
      help: 'Duration of `_bulk` requests to Elasticsearch.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    sinkEndToEndLatency: new Histogram({
      name: 'okta_forwarder_sink_end_to_end_latency_seconds',
      help: 'Time from an event being published by Okta to being indexed in Elasticsearch.',
      buckets: END_TO_END_LATENCY_BUCKETS,
      registers: [registry],
    }),
    sinkElasticsearchUp: new Gauge({
      name: 'okta_forwarder_sink_elasticsearch_up',
      help: 'Whether the last `_bulk` request reached Elasticsearch (1) or not (0).',
      registers: [registry],
    }),
    orgOwned: new Gauge({
      name: 'okta_forwarder_org_owned',
      help: 'Whether this process polls the org now (1) or not (0): the poller group gives each org to one process at a time.',
      labelNames: labels('org'),
      registers: [registry],
    }),
    orgOwnershipChanges: new Counter({
      name: 'okta_forwarder_org_ownership_changes_total',
      help: 'Orgs this process took from the poller group or gave up, by change (took, reassigned, fenced, released): reassigned, the group gave it to another process; fenced, another process took it over; released, this process stopped or lost its group membership.',
      labelNames: labels('org', 'change'),
      registers: [registry],
    }),
    pollerInfo: new Gauge({
      name: 'okta_forwarder_poller_info',
      help: 'Always 1, labelled with this process as the poller group knows it ("<host>/<pid>") and its group.',
      labelNames: labels('process', 'group'),
      registers: [registry],
    }),
    connectorState: new Gauge({
      name: 'okta_forwarder_connector_state',
      help: 'Connector state of each org: 1 for the current state, 0 for the others.',
      labelNames: labels('org', 'state'),
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
