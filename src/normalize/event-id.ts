import { createHash } from 'node:crypto';
import { MAX_ID_BYTES } from './document-limits.js';
import { jsonText } from './json-text.js';

/** The `_id` of an event's document, and whether it is the event's own uuid. */
export type EventId = { id: string; fromUuid: true } | { id: string; fromUuid: false };

/**
 * The one id rule, for the sink and the `normalize` preview alike: the Okta `uuid` when
 * Elasticsearch can take it as an `_id` and it names one event; otherwise a hash that the event
 * itself determines, so that a replay overwrites its document and two different events never
 * share one. Unusable: no uuid, not a string, empty or only whitespace, "null" (how Okta writes an
 * absent value), over 512 bytes of UTF-8 (Elasticsearch refuses the whole `_bulk`), or a lone
 * surrogate (it cannot be written as UTF-8, so Elasticsearch would store another id).
 *
 * The hash is sha256 (base64url, 43 characters) of the event's canonical JSON text (sorted keys,
 * any depth): the same for an event read from an NDJSON line and the same event decoded from
 * Avro, whichever wire format or schema version carried it.
 */
export function eventId(event: Record<string, unknown>): EventId {
  const uuid = Object.hasOwn(event, 'uuid') ? event.uuid : undefined;
  if (isUsableUuid(uuid)) return { id: uuid, fromUuid: true };
  return { id: createHash('sha256').update(jsonText(event, { canonical: true })).digest('base64url'), fromUuid: false };
}

export function isUsableUuid(uuid: unknown): uuid is string {
  if (typeof uuid !== 'string' || uuid === 'null' || uuid.trim() === '') return false;
  // A UTF-16 code unit is at most 3 bytes of UTF-8: only long strings need measuring.
  if (uuid.length * 3 > MAX_ID_BYTES && Buffer.byteLength(uuid, 'utf8') > MAX_ID_BYTES) return false;
  return (uuid as unknown as { isWellFormed(): boolean }).isWellFormed();
}
