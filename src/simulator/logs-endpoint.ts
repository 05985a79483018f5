import type { CursorCodec } from './cursor.js';
import type { EventStore, Page, StoredEvent } from './event-store.js';
import { parseLogsQuery, RETENTION_MS, type LogsQuery } from './logs-query.js';
import type { OktaErrorResponse } from './okta-errors.js';

/**
 * One page of `GET /api/v1/logs` (okta-system-log-api.md sections 1.2 to 1.6), once the request
 * is authenticated and within its rate limit:
 *   - polling requests select on persistence order and always carry a `next` link, even on an
 *     empty page; its cursor continues exactly after what this page covered, so following next
 *     links returns every event once, late ones included;
 *   - bounded requests select on `published`, in published order (or its reverse), and the last
 *     page has no `next`;
 *   - events published more than 90 days ago are never returned;
 *   - links are absolute URLs to the host the client addressed, sent as separate `link` header
 *     lines: `<url>; rel="self"` and `<url>; rel="next"`.
 */
export interface LogsPage {
  status: 200;
  /** The JSON array, by concatenation of the stored events' JSON. */
  body: string;
  links: string[];
  eventCount: number;
}

export class LogsEndpoint {
  constructor(
    private readonly store: EventStore,
    private readonly cursors: CursorCodec,
    private readonly now: () => number,
  ) {}

  /** `requestUrl` is the absolute URL the client asked for; links are built on its origin. */
  handle(requestUrl: URL): LogsPage | OktaErrorResponse {
    const nowMs = this.now();
    const query = parseLogsQuery(requestUrl.searchParams, this.cursors, nowMs);
    if ('body' in query) return query;
    const retainedFrom = nowMs - RETENTION_MS;
    const accept = (event: StoredEvent): boolean => event.publishedMs >= retainedFrom && query.matches(event.json);

    let page: Page;
    let next: URL | undefined;
    if (query.kind === 'polling') {
      page = this.store.pollingPage(query.afterSeq, query.sinceMs, query.limit, accept);
      next = this.link(requestUrl, query, this.cursors.encode({ kind: 'polling', seq: page.position, sinceMs: query.sinceMs }));
    } else {
      page = this.store.boundedPage(Math.max(query.sinceMs, retainedFrom), query.untilMs, query.order, query.after, query.limit, accept);
      const last = page.events[page.events.length - 1];
      if (page.more && last) {
        next = this.link(requestUrl, query, this.cursors.encode({ kind: 'bounded', order: query.order, publishedMs: last.publishedMs, seq: last.seq }));
      }
    }

    const links = [`<${requestUrl.href}>; rel="self"`];
    if (next) links.push(`<${next.href}>; rel="next"`);
    return { status: 200, body: concatenate(page.events), links, eventCount: page.events.length };
  }

  /**
   * The next link. Polling: `limit` and `after` only (plus filter and q, which define the
   * stream), as in Okta's own polling example. Bounded: the effective since/until as ISO
   * timestamps, so later pages keep the window the first page had even when `until` defaulted
   * to "now"; Okta's bounded example also keeps since and rewrites until.
   */
  private link(requestUrl: URL, query: LogsQuery, after: string): URL {
    const url = new URL(requestUrl.pathname, requestUrl.origin);
    const params = url.searchParams;
    if (query.kind === 'bounded') {
      params.set('since', new Date(query.sinceMs).toISOString());
      params.set('until', new Date(query.untilMs).toISOString());
      if (query.order === 'DESCENDING') params.set('sortOrder', 'DESCENDING');
    }
    if (query.filter) params.set('filter', query.filter);
    if (query.q) params.set('q', query.q);
    params.set('limit', String(query.limit));
    params.set('after', after);
    return url;
  }
}

function concatenate(events: readonly StoredEvent[]): string {
  const parts = new Array<string>(events.length);
  for (let i = 0; i < events.length; i++) parts[i] = (events[i] as StoredEvent).json;
  return `[${parts.join(',')}]`;
}
