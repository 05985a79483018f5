import { randomUUID } from 'node:crypto';
import { ForwarderError } from '../errors.js';
import type { OrgConfig } from '../config/index.js';
import type { Checkpoint } from '../kafka/checkpoints.js';
import type { EncodedEvent } from '../kafka/messages.js';
import type { PageToPublish, PublishResult } from '../kafka/publisher.js';
import type { LogPage } from '../okta/client.js';
import type { EncodedPage } from './page-encoding.js';
import { RateBudget, type RateLimitSnapshot } from '../okta/rate-limit.js';
import { interruptibleSleep, RETRY_POLICIES, RetryAborted, retryDelayMs, retrying, type RetryPolicy } from '../retry.js';
import type { PageSlots } from './page-slots.js';
import { BackfillTracker, type BackfillProgress } from './progress.js';
import { ConnectorStatus, failureHandling, type ConnectorState, type RateLimitedBy } from './state.js';
import { TailCadence } from './tail-cadence.js';
import type { PollerTelemetry } from './telemetry.js';

/** Where pages come from: the org's Okta client (src/okta/client.ts) with the page encoder, or anything that behaves like them. */
export interface PageSource {
  pollingUrl(since: Date, limit?: number): string;
  /**
   * The page at `url`, its events already Avro-encoded. `onCounted` hears how many items the page
   * holds, its next link and rate-limit headers as soon as the body is parsed: before encoding ends.
   */
  getPage(url: string, onCounted?: (counted: CountedPage) => void): Promise<LogPage<EncodedPage>>;
  /** Resolves when the org's credentials may have changed (a secret file was written): a failure's wait ends early. */
  credentialsChanged?(): Promise<void>;
}

export interface CountedPage {
  items: number;
  nextUrl: string | undefined;
  rateLimit: RateLimitSnapshot | undefined;
}

/**
 * Where pages go: one Kafka transaction per page (src/kafka/publisher.ts). connect() fences any
 * other producer of the org. After publish() fails the page may or may not be committed: the
 * poller calls connect() again and reads the checkpoint back before going on.
 */
export interface PageSink {
  connect(): Promise<void>;
  publish(page: PageToPublish): Promise<PublishResult>;
  disconnect(): Promise<void>;
}

export interface OrgPollerOptions {
  org: OrgConfig;
  source: PageSource;
  sink: PageSink;
  /** The org's last committed checkpoint; called after sink.connect() (which fences older producers). */
  loadCheckpoint: () => Promise<Checkpoint | undefined>;
  /** Uuids of this org's events already in Kafka with `published` at or after the given time (cursor recovery). */
  publishedUuidsSince: (sinceMs: number) => Promise<Set<string>>;
  telemetry: PollerTelemetry;
  /** This process, written in each checkpoint: who polled the org. */
  owner?: string;
  /** Events per page; Okta's maximum. */
  limit?: number;
  /** Shared by the process's orgs: bounds the pages read ahead at once (see PageSlots). */
  pageSlots?: PageSlots;
  /** How far before the last published event a cursor recovery restarts. */
  recoveryOverlapMs?: number;
  /** Retry policies by kind; tests make them instant. */
  retry?: Partial<Record<keyof typeof RETRY_POLICIES, RetryPolicy>>;
  now?: () => number;
  random?: () => number;
  /** Backfill progress callback, at most every progressIntervalMs (terminal line, log line). */
  onProgress?: (progress: BackfillProgress) => void;
  progressIntervalMs?: number;
}

export interface PollerStats {
  org: string;
  state: ConnectorState | 'starting' | 'stopped';
  /** When the poller entered its state (ISO). */
  stateSince: string;
  /** Why it is in its state: the error for a failing state, what it does for a working one. */
  reason: string | undefined;
  /** Share of the org's rate limit this poller used in the current window (0..1). */
  rateLimitShareUsed: number;
  pages: number;
  events: number;
  lastPublished: string | undefined;
  progress: BackfillProgress | undefined;
  /** What the poller waits for besides Okta (Kafka), and why; undefined when it waits for nothing. */
  waitingFor: string | undefined;
}

/** A running poller: awaitable, with live stats and stop(). */
export interface PollerHandle {
  /** Settles when the poller stops: resolves after stop(), rejects when it cannot go on (fenced by another instance). */
  readonly done: Promise<void>;
  stats(): PollerStats;
  /** Stops after the page in flight is published (or abandoned, uncommitted); resolves when stopped. */
  stop(): Promise<void>;
}

const DAY_MS = 86_400_000;
/** Full pages requested ahead of the one being published (bounded: each holds up to a page of events). */
const READ_AHEAD_PAGES = 2;

/** A page with how long its request took (it may have been read ahead: waiting for it says nothing of Okta). */
type FetchedPage = LogPage<EncodedPage> & { requestMs: number };

/** A page requested ahead; `fullNext` is its next link once it is known to be full and not yet requested. */
interface AheadPage {
  url: string;
  page: Promise<FetchedPage>;
  fullNext?: string;
}

/**
 * Polls one org's System Log as Okta prescribes and publishes every page exactly once:
 *
 * - first start: a polling request (ASCENDING, no `until`) from now minus the initial lookback;
 *   then Okta's `next` links, verbatim. The checkpoint is the full `next` URL, committed in the
 *   same Kafka transaction as the page's events; a restart continues from it.
 * - a full page continues at once (the next page is fetched while this one is published); a
 *   shorter page means caught up: wait the poll interval. All within the rate-limit share.
 * - failures never end the poller: each becomes a connector state and a retry (state.ts). The
 *   exception: another instance with the same transactional id fenced this one.
 * - a rejected cursor restarts from the last published time minus an overlap, dropping events
 *   whose uuid Kafka already holds.
 */
export class OrgPoller {
  private readonly abort = new AbortController();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly limit: number;
  private readonly budget: RateBudget;
  private readonly cadence: TailCadence;
  private state: ConnectorState | 'starting' | 'stopped' = 'starting';
  /** The state shown: derived from what the poller waits on (the main loop, requests waiting for the rate budget). */
  private readonly status = new ConnectorStatus((change) => {
    if (this.state === 'stopped') return;
    this.state = change.to;
    this.stateSinceMs = this.now();
    this.stateReason = change.reason;
    this.options.telemetry.stateChanged(change);
  });
  private stateSinceMs: number;
  private stateReason: string | undefined;
  private pages = 0;
  private checkpoint: Checkpoint | undefined;
  private tracker: BackfillTracker | undefined;
  /** Uuids to drop while recovering from a rejected cursor; undefined otherwise. */
  private recoveryUuids: Set<string> | undefined;
  /** Failed transactions in a row, for the backoff. */
  private publishFailures = 0;
  private lastProgressAtMs = 0;
  /** Where a new polling request starts when Kafka holds no checkpoint. */
  private startUrl = '';
  private waitingFor: string | undefined;
  /** Read-ahead: the pages requested after the one being published, in order, and the newest request. */
  private ahead: AheadPage[] = [];
  private newest: AheadPage | undefined;

  constructor(private readonly options: OrgPollerOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.limit = options.limit ?? 1000;
    this.budget = new RateBudget(options.org.rateLimitShare, this.now);
    this.cadence = new TailCadence(options.org.minPollIntervalSeconds * 1000, options.org.pollIntervalSeconds * 1000);
    this.stateSinceMs = this.now();
  }

  start(): PollerHandle {
    const done = this.run().finally(() => {
      this.state = 'stopped';
      this.stateSinceMs = this.now();
    });
    // The handle's owner awaits `done`; this only keeps an unobserved rejection from crashing.
    done.catch(() => undefined);
    return {
      done,
      stats: () => this.stats(),
      stop: async () => {
        this.abort.abort();
        await done.catch(() => undefined);
      },
    };
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private stats(): PollerStats {
    return {
      org: this.options.org.id,
      state: this.state,
      stateSince: new Date(this.stateSinceMs).toISOString(),
      reason: this.stateReason,
      rateLimitShareUsed: this.budget.shareUsed(),
      pages: this.pages,
      events: this.checkpoint?.events ?? 0,
      lastPublished: this.checkpoint?.lastPublished,
      progress: this.tracker?.progress(),
      waitingFor: this.waitingFor,
    };
  }

  private policy(kind: keyof typeof RETRY_POLICIES): RetryPolicy {
    return this.options.retry?.[kind] ?? RETRY_POLICIES[kind];
  }

  private async run(): Promise<void> {
    try {
      await this.loop();
      await this.shutdown('stop requested');
    } catch (err) {
      if (err instanceof Stopped) return this.shutdown('stop requested');
      await this.shutdown((err as Error).message);
      throw err;
    }
  }

  private async loop(): Promise<void> {
    const { org, telemetry, sink } = this.options;
    await this.withKafkaRetries('connecting to Kafka', () => sink.connect());
    if (this.stopped) return this.shutdown('stopped before the first page');
    this.checkpoint = await this.withKafkaRetries('reading the last checkpoint', () => this.options.loadCheckpoint());
    const since = this.checkpoint?.since ?? new Date(this.now() - org.initialLookbackDays * DAY_MS).toISOString();
    this.startUrl = this.options.source.pollingUrl(new Date(since), this.limit);
    let url = this.checkpoint?.nextUrl ?? this.startUrl;
    const lastPublishedMs = pastTime(this.checkpoint?.lastPublished, this.now());
    this.tracker = new BackfillTracker(Date.parse(since), this.checkpoint?.events ?? 0, lastPublishedMs ?? Date.parse(since), this.now);
    telemetry.starting({ resumedFrom: this.checkpoint?.committedAt, since });
    telemetry.resumed(this.checkpoint?.lastPublished);

    let failures = 0;
    while (!this.stopped) {
      let page: FetchedPage;
      try {
        page = await this.take(url);
      } catch (err) {
        failures += 1;
        url = await this.handleFailure(err, url, failures);
        continue;
      }
      failures = 0;
      this.pages += 1;
      telemetry.pageFetched(page.events.items, page.requestMs, page.rateLimit, this.budget.shareUsed());
      const full = page.events.items >= this.limit;
      this.setState(full && !this.tracker.isCaughtUp ? 'backfilling' : 'connected', full ? 'reading the backfill' : 'caught up with Okta');

      if (!page.nextUrl) {
        // A polling request always has a next link (Okta's documented contract). Without one
        // there is nowhere safe to go: keep the current cursor and ask again later.
        await this.handleFailure(
          new ForwarderError('OF_OKTA_BAD_RESPONSE', `polling ${org.domain}: the response has no rel="next" link; asking again with the same cursor`),
          url,
          1,
        );
        continue;
      }
      url = await this.publishPage(page, since);
      // After a failed transaction the poller continues from what Kafka holds, which may be this page again.
      if (url !== page.nextUrl) continue;
      if (!full) {
        if (!this.tracker.isCaughtUp) {
          this.tracker.markCaughtUp();
          this.reportProgress(true);
        }
        // Recovery ends once caught up: everything after this point is new.
        this.recoveryUuids = undefined;
        await interruptibleSleep(this.cadence.next(page.events.items), this.abort.signal);
      }
    }
    await this.dropAhead();
  }

  /**
   * The page at `url`: requested ahead already, or now. Reading ahead overlaps the next requests
   * and their parsing and encoding (on the encoder thread) with this page's Kafka transaction.
   * Requests stay one at a time: the next one goes out once the previous page is received and
   * counted full; a page with fewer events than the limit ends the read-ahead (caught up).
   */
  private async take(url: string): Promise<FetchedPage> {
    if (this.ahead[0]?.url === url) {
      const head = this.ahead.shift()!;
      this.readAhead();
      return head.page;
    }
    await this.dropAhead();
    return this.request(url, false).page;
  }

  /** `backlog`: the page follows a full one (read ahead), so the budget does not space it. */
  private request(url: string, backlog: boolean): AheadPage {
    const entry = { url } as AheadPage;
    entry.page = this.fetch(url, backlog, ({ items, nextUrl }) => {
      if (items < this.limit || !nextUrl) return;
      entry.fullNext = nextUrl;
      this.readAhead();
    });
    // Failures are handled when the page is taken; a page dropped unread fails unobserved.
    entry.page.catch(() => undefined);
    this.newest = entry;
    return entry;
  }

  /** Requests the page after the newest one if that one is full and there is room ahead. */
  private readAhead(): void {
    const newest = this.newest;
    if (!newest?.fullNext || this.ahead.length >= READ_AHEAD_PAGES || this.stopped) return;
    const next = newest.fullNext;
    newest.fullNext = undefined;
    this.ahead.push(this.request(next, true));
  }

  /** Forgets the pages read ahead (the cursor went elsewhere, or the poller stops), after their requests end. */
  private async dropAhead(): Promise<void> {
    const dropped = this.ahead;
    this.ahead = [];
    this.newest = undefined;
    await Promise.allSettled(dropped.map((entry) => entry.page));
  }

  /** Waits for the rate budget, then requests the page; `requestMs` runs from sending to the page received and counted. */
  private async fetch(url: string, backlog: boolean, onCounted?: (counted: CountedPage) => void): Promise<FetchedPage> {
    await this.waitForBudget(backlog);
    // A page read ahead waits for a slot among the process's (memory, see PageSlots); the wait is not the request's time.
    const release = backlog ? await this.options.pageSlots?.acquire(this.abort.signal) : undefined;
    try {
      return await this.fetchNow(url, onCounted);
    } finally {
      release?.();
    }
  }

  private async fetchNow(url: string, onCounted?: (counted: CountedPage) => void): Promise<FetchedPage> {
    // The budget counts the response once, as early as possible: before the next page is requested ahead.
    let observed = false;
    const observe = (rateLimit: RateLimitSnapshot | undefined) => {
      if (observed || !rateLimit) return;
      observed = true;
      this.budget.observe(rateLimit);
    };
    const sentAtMs = this.now();
    let countedAtMs: number | undefined;
    const page = await this.options.source.getPage(url, (counted) => {
      countedAtMs = this.now();
      observe(counted.rateLimit);
      onCounted?.(counted);
    });
    observe(page.rateLimit);
    return { ...page, requestMs: (countedAtMs ?? this.now()) - sentAtMs };
  }

  /**
   * Waits for the request's turn in the rate budget. Its turn within the share is pacing (counted,
   * the state unchanged); a wait for the next window shows `rate_limited` for as long as it lasts,
   * whichever request waits (see ConnectorStatus).
   */
  private async waitForBudget(backlog: boolean): Promise<void> {
    const delay = this.budget.delayMs(backlog);
    const cause = this.budget.waitCause(backlog);
    if (delay <= 0 || !cause) return;
    if (cause === 'pacing') {
      this.options.telemetry.rateLimitWait(cause, delay);
      await interruptibleSleep(delay, this.abort.signal);
      return;
    }
    const waitMs = delay + this.jitterMs();
    const share = this.options.org.rateLimitShare;
    const done =
      cause === 'share'
        ? this.status.waitingForBudget('share', `using the configured share (${share}) of the rate limit: waiting for the next window`)
        : this.status.waitingForBudget('okta', `Okta reports the org's whole rate limit for /api/v1/logs spent (by other integrations too): waiting for its reset`);
    this.options.telemetry.rateLimitWait(cause, waitMs);
    try {
      await interruptibleSleep(waitMs, this.abort.signal);
    } finally {
      done();
    }
  }

  /**
   * Publishes the page with its checkpoint in one transaction; returns the URL to continue from:
   * the page's next link, or, when the transaction failed, the cursor Kafka holds once the
   * producer is started again. A failed commit may have succeeded (its response lost), another
   * instance may have moved the cursor on, or nothing was written: reading the checkpoint back
   * tells them apart, so the page is neither lost nor published twice.
   */
  private async publishPage(page: FetchedPage, since: string): Promise<string> {
    const nextUrl = page.nextUrl as string;
    const { rejected } = page.events;
    let events = page.events.events;
    let deduplicated = 0;
    if (this.recoveryUuids) {
      const known = this.recoveryUuids;
      events = events.filter((event) => !(event.key !== null && known.has(event.key)));
      deduplicated = page.events.events.length - events.length;
    }
    const nowMs = this.now();
    const newest = newestPublished(events, nowMs);
    const previous = this.checkpoint;
    if (events.length === 0 && rejected.length === 0 && nextUrl === previous?.nextUrl) return nextUrl;
    const lastPublishedMs = Math.max(newest ?? -Infinity, pastTime(previous?.lastPublished, nowMs) ?? -Infinity);
    const checkpoint: Checkpoint = {
      version: 1,
      id: randomUUID(),
      org: this.options.org.id,
      nextUrl,
      since,
      lastPublished: Number.isFinite(lastPublishedMs) ? new Date(lastPublishedMs).toISOString() : undefined,
      events: (previous?.events ?? 0) + events.length + rejected.length,
      committedAt: new Date(this.now()).toISOString(),
      ...(this.options.owner ? { owner: this.options.owner } : {}),
    };
    let result: PublishResult;
    try {
      result = await this.options.sink.publish({ events, rejected, checkpoint });
      this.publishFailures = 0;
    } catch (err) {
      const error = asKafkaError('publishing a page', err);
      if (error.code === 'OF_KAFKA_FENCED') throw error;
      this.publishFailures += 1;
      const waitMs = retryDelayMs(this.policy('kafka'), this.publishFailures, this.random);
      this.options.telemetry.publishFailed(error, waitMs, this.publishFailures);
      this.waitingFor = `Kafka: ${error.message}`;
      if (!(await interruptibleSleep(waitMs, this.abort.signal))) throw new Stopped();
      await this.withKafkaRetries('starting the transactional producer again', () => this.options.sink.connect());
      const stored = await this.withKafkaRetries('reading the checkpoint back', () => this.options.loadCheckpoint());
      if (stored?.id !== checkpoint.id) {
        this.checkpoint = stored;
        this.options.telemetry.resynchronized(stored?.committedAt);
        return stored?.nextUrl ?? this.startUrl;
      }
      // The commit went through; only its answer was lost.
      result = { published: events.length, deadLettered: rejected.length, oversized: 0 };
    }
    this.waitingFor = undefined;
    if (this.recoveryUuids) for (const event of events) if (event.key !== null) this.recoveryUuids.add(event.key);
    this.checkpoint = checkpoint;
    this.options.telemetry.published({ ...result, deduplicated }, newest);
    this.tracker?.record(result.published, newest);
    this.reportProgress(false);
    return nextUrl;
  }

  private reportProgress(force: boolean): void {
    if (!this.tracker) return;
    const now = this.now();
    const progress = this.tracker.progress();
    this.options.telemetry.backfill(progress);
    if (force || now - this.lastProgressAtMs >= (this.options.progressIntervalMs ?? 10_000)) {
      this.lastProgressAtMs = now;
      if (!progress.caughtUp || force) this.options.telemetry.backfillLogLine(progress);
      this.options.onProgress?.(progress);
    }
  }

  /** Turns a failed request into a state and a wait; returns the URL to continue from. */
  private async handleFailure(err: unknown, url: string, attempt: number): Promise<string> {
    const error = err instanceof ForwarderError ? err : new ForwarderError('OF_OKTA_UNREACHABLE', `polling ${this.options.org.domain}: ${(err as Error).message}`, { cause: err });
    const handling = failureHandling(error.code);
    let next = url;
    let waitMs = retryDelayMs(this.policy(handling.retry), attempt, this.random);
    if (error.code === 'OF_OKTA_RATE_LIMITED') {
      const retryAtMs = (error as { details?: { retryAtMs?: number } }).details?.retryAtMs;
      // Okta's reset time wins over the computed backoff.
      if (retryAtMs !== undefined) waitMs = Math.max(0, retryAtMs - this.now()) + this.jitterMs();
    }
    if (error.code === 'OF_OKTA_CURSOR_REJECTED') {
      next = await this.recoverCursor();
      waitMs = 0;
    }
    this.options.telemetry.requestFailed(error, handling.outcome, waitMs);
    if (handling.state === 'rate_limited') this.options.telemetry.rateLimitWait('too_many_requests', waitMs);
    if (this.status.loopState !== handling.state) this.setState(handling.state, error.message, handling.state === 'rate_limited' ? 'okta' : undefined);
    else if (handling.state !== 'rate_limited') this.options.telemetry.stillFailing(error, waitMs, attempt);
    // An operator's fix (a new token in the file) is tried at once, not at the end of a backoff
    // that may last minutes.
    if (waitMs > 0) await Promise.race([interruptibleSleep(waitMs, this.abort.signal), ...(this.options.source.credentialsChanged ? [this.options.source.credentialsChanged()] : [])]);
    return next;
  }

  /**
   * Okta refused the saved cursor. Its contract forbids building one, so start a new polling
   * request from the last published time minus an overlap, and drop the events of that overlap
   * that Kafka already holds (read back by uuid), so nothing is lost or doubled.
   */
  private async recoverCursor(): Promise<string> {
    const overlapMs = this.options.recoveryOverlapMs ?? 5 * 60_000;
    const lastMs = pastTime(this.checkpoint?.lastPublished, this.now()) ?? parseTime(this.checkpoint?.since) ?? this.now() - this.options.org.initialLookbackDays * DAY_MS;
    const sinceMs = lastMs - overlapMs;
    this.recoveryUuids = await this.withKafkaRetries('reading published uuids for cursor recovery', () => this.options.publishedUuidsSince(sinceMs));
    this.options.telemetry.cursorRecovery({ since: new Date(sinceMs).toISOString(), knownUuids: this.recoveryUuids.size });
    return this.options.source.pollingUrl(new Date(sinceMs), this.limit);
  }

  /** Kafka being down is waited out, visibly, forever; being fenced is final. */
  private async withKafkaRetries<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      const result = await retrying(action, {
        what,
        policy: this.policy('kafka'),
        signal: this.abort.signal,
        random: this.random,
        retriable: (err) => !(err instanceof ForwarderError && err.code === 'OF_KAFKA_FENCED'),
        onRetry: (err, attempt, waitMs) => {
          const error = asKafkaError(what, err);
          this.waitingFor = `Kafka: ${error.message}`;
          this.options.telemetry.publishFailed(error, waitMs, attempt);
        },
      });
      this.waitingFor = undefined;
      return result;
    } catch (err) {
      if (err instanceof RetryAborted) throw new Stopped();
      throw err;
    }
  }

  private setState(state: ConnectorState, reason: string, rateLimitedBy?: RateLimitedBy): void {
    this.status.setLoopState(state, reason, rateLimitedBy);
  }

  private jitterMs(): number {
    return Math.round(250 + this.random() * 1750);
  }

  private async shutdown(reason: string): Promise<void> {
    await this.options.sink.disconnect().catch(() => undefined);
    this.options.telemetry.stopped(reason);
  }
}

/** Thrown inside the loop when stop() cuts a wait short; ends the run normally. */
class Stopped extends Error {}

function asKafkaError(what: string, err: unknown): ForwarderError {
  return err instanceof ForwarderError ? err : new ForwarderError('OF_KAFKA_PUBLISH', `${what}: ${(err as Error).message}`, { retriable: true, cause: err });
}

function parseTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * A published time that can say how far the poller has read: not one after `nowMs`. An event
 * published in the future (a bad record, `9999-12-31T23:30:00-01:00` is year 10000 to Date.parse)
 * says nothing of it, and as the last published time it would move a cursor recovery past every
 * event still to come. Leaving it out only makes a recovery overlap more, which it deduplicates.
 */
function pastTime(value: string | undefined, nowMs: number): number | undefined {
  const ms = parseTime(value);
  return ms !== undefined && ms <= nowMs ? ms : undefined;
}

/** The newest published time of a page's events that is not in the future (see pastTime). */
function newestPublished(events: EncodedEvent[], nowMs: number): number | undefined {
  let newest: number | undefined;
  for (const { published } of events) {
    const ms = pastTime(published, nowMs);
    if (ms !== undefined && (newest === undefined || ms > newest)) newest = ms;
  }
  return newest;
}
