import type { Cursor, CursorCodec } from './cursor.js';
import { parseIsoTime } from './iso-time.js';
import { FilterError, parseFilter, parseQ, type EventPredicate } from './logs-filter.js';
import { invalidPaging, invalidParameter, oktaError, unsupportedFilter, validationFailed, type OktaErrorResponse } from './okta-errors.js';

/**
 * A /api/v1/logs request, validated, as one of Okta's two kinds (okta-system-log-api.md 1.2):
 *   polling  `until` absent (or empty) and sortOrder ASCENDING: selects on persistence time,
 *            pages forever;
 *   bounded  everything else: selects on `published` in [since, until], ends. `until` defaults
 *            to now and `since` to 7 days before `until`, so a DESCENDING request with neither
 *            (or with `until` only, which the docs leave undefined) is a 7-day bounded window.
 *
 * Decisions where the facts are [UNVERIFIED] or [CONFLICT]:
 *   - limit above 1000 is clamped to 1000, not refused (the spec only says "between 0 and 1000";
 *     clamping is what Okta's other list APIs do, and the next link then carries limit=1000).
 *     A limit that is not a whole number gives 400 E0000001.
 *   - `since` together with `after` is accepted and `since` ignored: the cursor carries its own
 *     lower bound. Okta's docs call them exclusive yet put both in their own next links; the
 *     simulator's polling next links carry only `after` and `limit`.
 *   - A cursor from the other kind of request (or the other sortOrder) is a 400 E0000029, like a
 *     tampered one.
 *   - `since` after `until` gives 400 E0000001.
 *   - `since` more than 180 days ago gives 400 E0000053; 90 to 180 days ago is accepted and the
 *     result silently truncated by the 90-day retention.
 */
export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;
export const DAY_MS = 86_400_000;
export const RETENTION_MS = 90 * DAY_MS;
export const MAX_SINCE_AGE_MS = 180 * DAY_MS;
const DEFAULT_WINDOW_MS = 7 * DAY_MS;

interface Common {
  limit: number;
  /** The raw filter and q, carried into next links. */
  filter: string | undefined;
  q: string | undefined;
  /** Whether a stored event's JSON matches filter and q (always true without them). */
  matches: (json: string) => boolean;
}

export type LogsQuery =
  | (Common & { kind: 'polling'; afterSeq: number; sinceMs: number })
  | (Common & {
      kind: 'bounded';
      sinceMs: number;
      untilMs: number;
      order: 'ASCENDING' | 'DESCENDING';
      after: { publishedMs: number; seq: number } | undefined;
    });

export function parseLogsQuery(params: URLSearchParams, cursors: CursorCodec, nowMs: number): LogsQuery | OktaErrorResponse {
  const since = params.get('since');
  const untilRaw = params.get('until');
  const until = untilRaw === '' ? null : untilRaw;
  const sinceMs = since === null ? undefined : parseIsoTime(since);
  if (since !== null && sinceMs === undefined) return badDate('since', since);
  const untilMs = until === null ? undefined : parseIsoTime(until);
  if (until !== null && untilMs === undefined) return badDate('until', until);

  const limitRaw = params.get('limit');
  let limit = DEFAULT_LIMIT;
  if (limitRaw !== null) {
    if (!/^\d+$/.test(limitRaw)) return validationFailed('limit', `must be a whole number between 0 and ${MAX_LIMIT}, got '${limitRaw.slice(0, 40)}'`);
    limit = Math.min(Number(limitRaw), MAX_LIMIT);
  }

  const orderRaw = params.get('sortOrder') ?? 'ASCENDING';
  if (orderRaw !== 'ASCENDING' && orderRaw !== 'DESCENDING') return validationFailed('sortOrder', `must be ASCENDING or DESCENDING, got '${orderRaw.slice(0, 40)}'`);

  if (sinceMs !== undefined && sinceMs < nowMs - MAX_SINCE_AGE_MS) {
    return invalidParameter('Invalid parameter: The since parameter is over 180 days prior to the current day.');
  }

  let matches: (json: string) => boolean = () => true;
  const filter = params.get('filter') ?? undefined;
  const q = params.get('q') ?? undefined;
  try {
    const byFilter: EventPredicate | undefined = filter ? parseFilter(filter) : undefined;
    const byQ = q ? parseQ(q) : undefined;
    if (byFilter || byQ) matches = (json) => (!byQ || byQ(json)) && (!byFilter || byFilter(JSON.parse(json)));
  } catch (err) {
    if (!(err instanceof FilterError)) throw err;
    if (err.errorCode === 'E0000031') return unsupportedFilter(err.message);
    if (err.errorCode === 'E0000001') return oktaError(400, 'E0000001', 'Api validation failed: q', [err.message]);
    return invalidParameter(err.message);
  }

  const afterRaw = params.get('after');
  let cursor: Cursor | undefined;
  if (afterRaw !== null) {
    cursor = cursors.decode(afterRaw);
    if (!cursor) return invalidPaging();
  }

  const common = { limit, filter, q, matches };
  if (until === null && orderRaw === 'ASCENDING') {
    if (cursor && cursor.kind !== 'polling') return invalidPaging();
    return cursor?.kind === 'polling'
      ? { ...common, kind: 'polling', afterSeq: cursor.seq, sinceMs: cursor.sinceMs }
      : { ...common, kind: 'polling', afterSeq: -1, sinceMs: sinceMs ?? nowMs - DEFAULT_WINDOW_MS };
  }

  const boundedUntil = untilMs ?? nowMs;
  const boundedSince = sinceMs ?? boundedUntil - DEFAULT_WINDOW_MS;
  if (boundedSince > boundedUntil) return validationFailed('since', 'since must be before until');
  if (cursor && (cursor.kind !== 'bounded' || cursor.order !== orderRaw)) return invalidPaging();
  return {
    ...common,
    kind: 'bounded',
    sinceMs: boundedSince,
    untilMs: boundedUntil,
    order: orderRaw,
    after: cursor?.kind === 'bounded' ? { publishedMs: cursor.publishedMs, seq: cursor.seq } : undefined,
  };
}

function badDate(param: string, value: string): OktaErrorResponse {
  return validationFailed(param, `The date format in your query is not recognized. Please enter dates using ISO8601 string format.. '${value.slice(0, 60)}'`);
}
