import type { ForwarderError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { RateLimitSnapshot } from '../okta/rate-limit.js';
import type { BackfillProgress } from './progress.js';
import { CONNECTOR_STATES, WORKING_STATES, type RateLimitWaitCause, type StateChange } from './state.js';

/**
 * Everything the poller of one org reports, one method per occurrence: each writes its log line
 * and updates its metrics, so call sites never touch pino or prom-client.
 */
export class PollerTelemetry {
  private lastPublishedMs: number | undefined;
  private isOwned = true;

  constructor(
    readonly org: string,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly now: () => number = Date.now,
  ) {
    this.logger = logger.child({ org });
    // Poll lag is computed again at each scrape, so it grows while nothing arrives.
    metrics.beforePollLagScrape.add(() => this.updateLag());
    for (const state of CONNECTOR_STATES) metrics.connectorState.set({ org, state }, 0);
  }

  starting(details: { resumedFrom: string | undefined; since: string }): void {
    this.logger.info(details, details.resumedFrom ? 'poller resuming from its last committed checkpoint' : 'poller starting a backfill');
  }

  /**
   * A state an operator must act on is an error; Okta's own limit (a 429, or the org's whole
   * budget spent by others) a warning, once per episode; waiting for the next window because the
   * forwarder's own share is spent is the rate limit working as configured: debug, and the
   * connector_state and rate-limit wait metrics.
   */
  stateChanged({ from, to, reason, rateLimitedBy }: StateChange): void {
    for (const state of CONNECTOR_STATES) this.metrics.connectorState.set({ org: this.org, state }, state === to ? 1 : 0);
    const line = { from: from ?? null, state: to, ...(rateLimitedBy ? { rateLimitedBy } : {}) };
    if (!WORKING_STATES.has(to)) this.logger.error(line, reason);
    else if (rateLimitedBy === 'share') this.logger.debug(line, reason);
    else if (to === 'rate_limited') this.logger.warn(line, reason);
    else this.logger.info(line, reason);
  }

  /** A request waited for the org's rate budget: counted by cause, and logged at debug (the state says when it lasts). */
  rateLimitWait(cause: RateLimitWaitCause, waitMs: number): void {
    if (waitMs <= 0) return;
    this.metrics.rateLimitWait.inc({ org: this.org, cause }, waitMs / 1000);
    this.logger.debug({ cause, waitMs }, 'waiting for the rate budget before the next Okta request');
  }

  pageFetched(events: number, durationMs: number, rateLimit: RateLimitSnapshot | undefined, shareUsed: number): void {
    const labels = { org: this.org };
    this.metrics.oktaRequests.inc({ org: this.org, outcome: 'ok' });
    this.metrics.oktaRequestDuration.observe(labels, durationMs / 1000);
    this.metrics.eventsFetched.inc(labels, events);
    this.metrics.lastSuccessfulPoll.set(labels, this.now() / 1000);
    if (rateLimit) {
      this.metrics.rateLimitLimit.set(labels, rateLimit.limit);
      this.metrics.rateLimitRemaining.set(labels, rateLimit.remaining);
    }
    this.metrics.rateLimitShareUsed.set(labels, shareUsed);
  }

  requestFailed(error: ForwarderError, outcome: string, retryInMs: number): void {
    this.metrics.oktaRequests.inc({ org: this.org, outcome });
    this.logger.debug({ code: error.code, retryInMs, err: error }, 'Okta request failed');
  }

  stillFailing(error: ForwarderError, retryInMs: number, attempt: number): void {
    // Repeated failures in the same state: one warning line per retry, the full explanation was logged on the state change.
    this.logger.warn({ code: error.code, attempt, retryInMs }, error.message);
  }

  published(result: { published: number; deadLettered: number; oversized: number; deduplicated: number }, newestPublishedMs: number | undefined): void {
    const labels = { org: this.org };
    this.metrics.eventsPublished.inc(labels, result.published);
    if (result.deadLettered > 0) {
      this.metrics.eventsDeadLettered.inc({ org: this.org, stage: 'poll' }, result.deadLettered);
      this.logger.warn(
        { deadLettered: result.deadLettered, oversized: result.oversized },
        'items of an Okta page could not be event records (not JSON objects, not encodable, or too large for the events topic): sent to the dead-letter topic with the reason',
      );
    }
    if (result.deduplicated > 0) this.metrics.eventsDeduplicated.inc(labels, result.deduplicated);
    this.metrics.transactions.inc({ org: this.org, result: 'committed' });
    if (newestPublishedMs !== undefined && (this.lastPublishedMs === undefined || newestPublishedMs > this.lastPublishedMs)) {
      this.lastPublishedMs = newestPublishedMs;
    }
    this.updateLag();
  }

  publishFailed(error: ForwarderError, retryInMs: number, attempt: number): void {
    this.metrics.transactions.inc({ org: this.org, result: 'aborted' });
    this.logger.warn({ code: error.code, attempt, retryInMs, err: error }, 'a Kafka operation failed; retrying');
  }

  /** After a failed transaction: the poller continues from the checkpoint Kafka holds. */
  resynchronized(checkpointCommittedAt: string | undefined): void {
    this.logger.info({ checkpointCommittedAt }, 'continuing from the checkpoint Kafka holds: the failed page was not committed, or another poller moved the cursor on');
  }

  resumed(lastPublished: string | undefined): void {
    const parsed = lastPublished ? Date.parse(lastPublished) : Number.NaN;
    if (Number.isFinite(parsed)) this.lastPublishedMs = parsed;
    this.updateLag();
  }

  cursorRecovery(details: { since: string; knownUuids: number }): void {
    this.logger.warn(details, 'Okta rejected the saved cursor: restarting from the last published time minus an overlap; events already published are dropped by uuid');
  }

  backfill(progress: BackfillProgress): void {
    const labels = { org: this.org };
    this.metrics.backfillProgress.set(labels, progress.ratio);
    this.metrics.backfillEta.set(labels, progress.etaSeconds ?? -1);
  }

  backfillLogLine(progress: BackfillProgress): void {
    this.logger.info(
      {
        progress: Number(progress.ratio.toFixed(4)),
        events: progress.events,
        eventsPerSecond: Math.round(progress.eventsPerSecond),
        etaSeconds: progress.etaSeconds === undefined ? null : Math.round(progress.etaSeconds),
      },
      progress.caughtUp ? 'backfill complete: caught up with Okta' : 'backfill progress',
    );
  }

  stopped(reason: string): void {
    this.logger.info({ reason }, 'poller stopped');
  }

  /**
   * The org is polled here again (true), or no longer (false: another process of the poller group
   * has it). Its connector state and poll lag are then that process's to report: here they are
   * cleared, so no alert fires for an org this process does not poll.
   */
  owned(owned: boolean): void {
    this.isOwned = owned;
    this.metrics.orgOwned.set({ org: this.org }, owned ? 1 : 0);
    if (owned) return;
    for (const state of CONNECTOR_STATES) this.metrics.connectorState.set({ org: this.org, state }, 0);
    this.metrics.pollLag.remove({ org: this.org });
  }

  /** Called at scrape time and after each page. */
  updateLag(): void {
    if (this.isOwned && this.lastPublishedMs !== undefined) this.metrics.pollLag.set({ org: this.org }, Math.max(0, (this.now() - this.lastPublishedMs) / 1000));
  }
}
