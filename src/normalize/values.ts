import { isIP } from 'node:net';

/**
 * What counts as "no data" in an Okta event: null, the string "null" (Okta writes `"ipAddress":"null"`
 * and `"zone":"null"` for absent values), and empty objects/arrays (`client: {}`, `debugContext: {}`).
 * Such leaves are neither mapped nor copied to `unmapped`: they carry nothing to lose.
 */
export function isNoData(value: unknown): boolean {
  if (value === null || value === undefined || value === 'null') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

/** A JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A valid IPv4 or IPv6 literal as Elasticsearch's `ip` type accepts it. IPv6 zone ids (`fe80::1%eth0`)
 * are refused: Elasticsearch rejects them, and the value then goes to `unmapped` instead.
 */
export function isIpAddress(value: string): boolean {
  return value.length <= MAX_IP_LENGTH && !value.includes('%') && isIP(value) !== 0;
}

/** The longest IP literal: IPv6 with an embedded IPv4, `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`. */
const MAX_IP_LENGTH = 45;

/** The longest address SMTP can carry (RFC 5321: a 256-octet path, less its angle brackets). */
const MAX_EMAIL_LENGTH = 254;

const WHITESPACE = /\s/;

/**
 * `local@domain.tld`: one `@` with text on both sides, no whitespace, a dot inside the domain.
 * Checked with index scans, not a pattern with adjacent quantifiers over the same characters
 * (`[^\s@]+\.[^\s@]+` tries every dot as the split and backtracks quadratically: `a@`, 20,000
 * dots and a space took 2 s), and only up to the longest real address: event values are untrusted
 * and unbounded.
 */
export function isEmailAddress(value: string): boolean {
  if (value.length > MAX_EMAIL_LENGTH) return false;
  const at = value.indexOf('@');
  if (at <= 0 || at !== value.lastIndexOf('@') || WHITESPACE.test(value)) return false;
  const dot = value.indexOf('.', at + 2);
  return dot !== -1 && dot < value.length - 1;
}

/** A value for a message: JSON-quoted, at most `max` characters of it, with the length when cut. */
export function excerpt(value: string, max = 64): string {
  return value.length <= max ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, max))}… (${value.length} characters)`;
}

/** A value for a message, unquoted: at most `max` characters of it. Event values are unbounded; messages are not. */
export function clipped(value: string, max = 64): string {
  return value.length <= max ? value : `${value.slice(0, max)}…`;
}

/** A finite latitude/longitude pair. (0, 0) is how Okta writes "not located" (`"lat":0.00,"lon":0.00`): not a location. */
export function isGeoPoint(lat: number, lon: number): boolean {
  return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && !(lat === 0 && lon === 0);
}
