import type { Message } from 'kafkajs';
import type { OktaEventCodec } from '../avro/index.js';
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
  json: string;
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
