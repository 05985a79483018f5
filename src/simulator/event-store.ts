/**
 * The simulated org's System Log as Okta keeps it (okta-system-log-api.md section 1.2): every
 * event has an internal persistence position (a sequence number and a persistence time, both
 * non-decreasing in the order events were stored) separate from its `published` time. Polling
 * requests walk the persistence order, bounded requests the published order; a late event is one
 * persisted after events published later than it.
 *
 * Events are kept as their JSON text, serialized once when stored: a page is the concatenation
 * of its events, which is what lets the simulator serve many thousands of events per second.
 */
export interface StoredEvent {
  /** Persistence order: 0, 1, 2, ... */
  readonly seq: number;
  /** Persistence time, epoch ms; never less than the previous event's. */
  readonly persistedMs: number;
  /** `published` as epoch ms; the persistence time when `published` is missing or not ISO 8601. */
  readonly publishedMs: number;
  readonly json: string;
}

export interface Page {
  events: StoredEvent[];
  /** Polling: the last persistence position examined; the next page starts after it. */
  position: number;
  /** Bounded: whether events matching the request remain after this page. */
  more: boolean;
}

export class EventStore {
  private readonly bySeq: StoredEvent[] = [];
  /** The same events ordered by (publishedMs, seq); re-sorted lazily after an out-of-order add. */
  private byPublished: StoredEvent[] = [];
  private publishedSorted = true;

  get size(): number {
    return this.bySeq.length;
  }

  /** Store one event. Its persistence time is raised to the last one's if earlier (order is time). */
  add(json: string, publishedMs: number, persistedMs: number): StoredEvent {
    const last = this.bySeq[this.bySeq.length - 1];
    const event: StoredEvent = {
      seq: this.bySeq.length,
      persistedMs: last && last.persistedMs > persistedMs ? last.persistedMs : persistedMs,
      publishedMs,
      json,
    };
    this.bySeq.push(event);
    const lastPublished = this.byPublished[this.byPublished.length - 1];
    if (lastPublished && lastPublished.publishedMs > publishedMs) this.publishedSorted = false;
    this.byPublished.push(event);
    return event;
  }

  /**
   * A polling page: events after persistence position `afterSeq` (-1 for the start) persisted at
   * or after `sinceMs`, that `accept` keeps, at most `limit` of them, in persistence order.
   */
  pollingPage(afterSeq: number, sinceMs: number, limit: number, accept: (event: StoredEvent) => boolean): Page {
    const events: StoredEvent[] = [];
    let i = Math.max(afterSeq + 1, this.firstPersistedAtOrAfter(sinceMs));
    while (events.length < limit && i < this.bySeq.length) {
      const event = this.bySeq[i] as StoredEvent;
      if (accept(event)) events.push(event);
      i++;
    }
    // Everything before i was returned, persisted before `sinceMs`, or will never match (filters
    // are fixed and retention only excludes more as time passes): the next page starts at i.
    return { events, position: i - 1, more: true };
  }

  /**
   * A bounded page: events published in [sinceMs, untilMs] that `accept` keeps, in published
   * order (ties by persistence order), starting after `after` when given.
   */
  boundedPage(
    sinceMs: number,
    untilMs: number,
    order: 'ASCENDING' | 'DESCENDING',
    after: { publishedMs: number; seq: number } | undefined,
    limit: number,
    accept: (event: StoredEvent) => boolean,
  ): Page {
    const sorted = this.publishedOrder();
    const events: StoredEvent[] = [];
    let more = false;
    if (order === 'ASCENDING') {
      let i = after ? upperBound(sorted, after.publishedMs, after.seq) : lowerBound(sorted, sinceMs, -1);
      for (; i < sorted.length; i++) {
        const event = sorted[i] as StoredEvent;
        if (event.publishedMs > untilMs) break;
        if (event.publishedMs < sinceMs || !accept(event)) continue;
        if (events.length === limit) {
          more = true;
          break;
        }
        events.push(event);
      }
    } else {
      let i = (after ? lowerBound(sorted, after.publishedMs, after.seq) : upperBound(sorted, untilMs, Number.MAX_SAFE_INTEGER)) - 1;
      for (; i >= 0; i--) {
        const event = sorted[i] as StoredEvent;
        if (event.publishedMs < sinceMs) break;
        if (event.publishedMs > untilMs || !accept(event)) continue;
        if (events.length === limit) {
          more = true;
          break;
        }
        events.push(event);
      }
    }
    return { events, position: -1, more };
  }

  private publishedOrder(): StoredEvent[] {
    if (!this.publishedSorted) {
      // Mostly sorted already (late events are few): V8's TimSort makes this close to linear.
      this.byPublished.sort((a, b) => a.publishedMs - b.publishedMs || a.seq - b.seq);
      this.publishedSorted = true;
    }
    return this.byPublished;
  }

  private firstPersistedAtOrAfter(sinceMs: number): number {
    let lo = 0;
    let hi = this.bySeq.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.bySeq[mid] as StoredEvent).persistedMs < sinceMs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** First index whose (publishedMs, seq) is at or after the given key. */
function lowerBound(sorted: readonly StoredEvent[], publishedMs: number, seq: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = sorted[mid] as StoredEvent;
    if (e.publishedMs < publishedMs || (e.publishedMs === publishedMs && e.seq < seq)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose (publishedMs, seq) is after the given key. */
function upperBound(sorted: readonly StoredEvent[], publishedMs: number, seq: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = sorted[mid] as StoredEvent;
    if (e.publishedMs < publishedMs || (e.publishedMs === publishedMs && e.seq <= seq)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
