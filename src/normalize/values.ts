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
  return !value.includes('%') && isIP(value) !== 0;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function isEmailAddress(value: string): boolean {
  return EMAIL.test(value);
}

/** A finite latitude/longitude pair. (0, 0) is how Okta writes "not located" (`"lat":0.00,"lon":0.00`): not a location. */
export function isGeoPoint(lat: number, lon: number): boolean {
  return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && !(lat === 0 && lon === 0);
}
