import type { Message } from 'kafkajs';
import type { OktaEventCodec } from '../avro/index.js';

/** The Kafka record of one Okta event, as the poller and `import` write it: key = uuid; headers org, eventType, published. */
export function eventMessage(org: string, event: Record<string, unknown>, codec: OktaEventCodec): Message {
  const headers: Record<string, string> = { org };
  if (typeof event.eventType === 'string') headers.eventType = event.eventType;
  if (typeof event.published === 'string') headers.published = event.published;
  return { key: typeof event.uuid === 'string' ? event.uuid : null, value: codec.encode(event), headers };
}

/** A dead-letter record: the original bytes, and headers that say where it came from and why. */
export function deadLetterMessage(org: string, value: string | Buffer, headers: { stage: string; reason: string } & Record<string, string>): Message {
  return { key: org, value, headers: { org, ...headers } };
}
