/**
 * Okta `published` -> epoch milliseconds, with one documented rule for imperfect values.
 *
 * Accepted: `YYYY-MM-DD(T| )hh:mm:ss[.fraction][Z|±hh:mm]`
 *   - the `T` may be a space (RFC 3339 section 5.6 allows it; Panther exports write it so);
 *   - no zone means UTC (Okta publishes in UTC; exports that drop the `Z` keep UTC values); the
 *     document then carries the label `published_assumed_utc`;
 *   - a fraction longer than milliseconds is truncated to milliseconds (`time` is epoch ms;
 *     `metadata.original_time` keeps the exact string).
 * Repaired: a day of month that the month does not have (day 29–31, e.g. Okta's own documentation
 * example `2017-09-31T22:23:07.777Z`) rolls over into the next month the way the calendar would
 * (2017-09-31 -> 2017-10-01). The document carries the label `published_repaired`, and
 * `metadata.original_time` keeps the value as Okta wrote it.
 * Refused (the caller throws OF_NORMALIZE, the sink dead-letters the record): no `published`, a
 * non-string, any other shape, a field out of its range (month 13, hour 24, day 32, …), or a time
 * that its zone offset moves outside the years 0000 to 9999 in UTC (`9999-12-31T23:30:00-01:00`),
 * which Elasticsearch's `date` cannot hold: there is no day to index such an event under.
 */
import { MAX_TIME_MS, MIN_TIME_MS } from './document-limits.js';
import { excerpt } from './values.js';

export type PublishedLabel = 'published_assumed_utc' | 'published_repaired';

export type PublishedTime =
  | { ok: true; epochMs: number; labels: PublishedLabel[] }
  | { ok: false; reason: string };

/** The longest text the pattern can match (`YYYY-MM-DDThh:mm:ss.fffffffff+hh:mm`): anything longer is not looked at. */
const MAX_PUBLISHED_LENGTH = 35;
// Every quantifier is bounded or separated from the next by a literal: linear on any input.
const PUBLISHED = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?$/;

export function parsePublished(value: unknown): PublishedTime {
  if (value === undefined || value === null) return { ok: false, reason: 'the event has no "published" time' };
  if (typeof value !== 'string') return { ok: false, reason: `"published" is a ${typeof value}, not an ISO 8601 string` };
  const match = value.length <= MAX_PUBLISHED_LENGTH ? PUBLISHED.exec(value) : null;
  if (!match) return { ok: false, reason: `"published" ${excerpt(value)} is not an ISO 8601 date-time` };
  const [, y, mo, d, h, mi, s, fraction, zone] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return { ok: false, reason: `"published" ${excerpt(value)} has a field out of range` };
  }
  const millis = fraction === undefined ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3));
  const labels: PublishedLabel[] = [];
  let offsetMinutes = 0;
  if (zone === undefined) labels.push('published_assumed_utc');
  else if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 23 || zm > 59) return { ok: false, reason: `"published" ${excerpt(value)} has an invalid zone offset` };
    offsetMinutes = sign * (zh * 60 + zm);
  }
  // Date.UTC rolls a day past the month's end into the next month: exactly the repair rule.
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, millis);
  if (utc.getUTCDate() !== day) labels.push('published_repaired');
  const epochMs = utc.getTime() - offsetMinutes * 60_000;
  if (epochMs < MIN_TIME_MS || epochMs > MAX_TIME_MS) {
    return { ok: false, reason: `"published" ${excerpt(value)} is outside the years 0000 to 9999 in UTC, which Elasticsearch's date cannot hold` };
  }
  return { ok: true, epochMs, labels };
}
