import type { Message } from 'kafkajs';
import type { OktaEventCodec } from '../avro/index.js';
import { parseJsonKeepingLargeNumbers } from '../avro/json-parse.js';
import { isPlainObject, NotJsonError } from '../avro/json-text.js';
import { ForwarderError } from '../errors.js';
import { scrubbedExcerpt, scrubSecrets } from '../logging/secrets.js';

/** One Okta event, Avro-encoded, with what its Kafka record carries besides the value. */
export interface EncodedEvent {
  /** The event's uuid: the record key. Null when Okta sent none. */
  key: string | null;
  eventType: string | undefined;
  published: string | undefined;
  value: Buffer;
  /** More record headers (`import` adds the source file and line). */
  headers?: Record<string, string>;
}

/** A page item that cannot be an event record, as JSON text with the reason: it is dead-lettered. */
export interface RejectedItem {
  /** The item's JSON text as it was sent; for input that is not even text (an imported line that is not UTF-8), its bytes. */
  json: string | Buffer;
  reason: string;
  /** More dead-letter headers (`import` adds the source file and line). */
  headers?: Record<string, string>;
}

/** The event with the record's key and headers read from it. */
export function encodeEvent(event: Record<string, unknown>, codec: OktaEventCodec): EncodedEvent {
  return {
    key: typeof event.uuid === 'string' ? event.uuid : null,
    eventType: typeof event.eventType === 'string' ? event.eventType : undefined,
    published: typeof event.published === 'string' ? event.published : undefined,
    value: codec.encode(event),
  };
}

/** What becomes of one item: an event record, or a dead letter with the reason. */
export type EncodeOutcome = { event: EncodedEvent } | { rejected: RejectedItem };

/**
 * One item of Okta's output (an item of a System Log page, a line of an export) as an event
 * record, or why it cannot be one. Every way encoding can fail is an answer here, never a thrown
 * error, so that one item never holds back another. `item` is JSON.parse of the item's text;
 * `source()` gives that text, as it was sent: the dead letter carries it, and an item holding a
 * number too large for a double (Infinity after JSON.parse) is read from it again, keeping the
 * number's text, which the codec carries exactly.
 */
export function encodeOrReject(item: unknown, source: () => string, codec: OktaEventCodec): EncodeOutcome {
  try {
    if (!isPlainObject(item)) return { rejected: { json: source(), reason: 'not a JSON object' } };
    try {
      return { event: encodeEvent(item, codec) };
    } catch (err) {
      // From JSON.parse, the only value that is not JSON is an overflowing number.
      if (!((err as Error).cause instanceof NotJsonError)) throw err;
      return { event: encodeEvent(parseJsonKeepingLargeNumbers(source()) as Record<string, unknown>, codec) };
    }
  } catch (err) {
    const reason = err instanceof ForwarderError ? err.message : `encoding an Okta event as Avro: ${err instanceof Error ? err.message : String(err)}`;
    return { rejected: { json: source(), reason } };
  }
}

/** The Kafka record of one Okta event, as the poller and `import` write it: key = uuid; headers org, eventType, published. */
export function eventMessage(org: string, event: Record<string, unknown>, codec: OktaEventCodec): Message {
  return encodedEventMessage(org, encodeEvent(event, codec));
}

export function encodedEventMessage(org: string, event: EncodedEvent): Message {
  const headers: Record<string, string> = { ...event.headers, org };
  if (event.eventType !== undefined) headers.eventType = event.eventType;
  if (event.published !== undefined) headers.published = event.published;
  return { key: event.key, value: event.value, headers };
}

/** A dead-letter record: the original bytes, and headers that say where it came from and why. */
export function deadLetterMessage(org: string, value: string | Buffer, headers: { stage: string; reason: string } & Record<string, string>): Message {
  return { key: org, value, headers: deadLetterHeaders({ org, ...headers }) };
}

/** The longest reason a dead letter carries; a reason is a message, not a copy of the record. */
const MAX_REASON_LENGTH = 1000;

/**
 * The headers of a dead letter, scrubbed: a reason quotes error messages, and those quote servers
 * (an error page may echo the request's credentials). Scrubbed before the reason is cut, so a cut
 * never leaves part of a secret. The record's own bytes are the data and stay as they are.
 */
export function deadLetterHeaders<T extends Record<string, string>>(headers: T): T {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, name === 'reason' ? scrubbedExcerpt(value, MAX_REASON_LENGTH) : scrubSecrets(value)]),
  ) as T;
}
