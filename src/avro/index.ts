/**
 * Okta System Log events as Kafka record values: Avro, lossless (decoding gives back exactly the
 * JSON object that was encoded, unknown fields and irregular values included), schema in
 * `schemas/okta-log-event.avsc`. The poller encodes, the sink decodes. A codec is synchronous;
 * create one per process and reuse it (it keeps a scratch buffer and the schemas it resolved).
 */
import { AvroOktaEventCodec } from './okta-event-codec.js';
import { knownSchemaVersions } from './schema-versions.js';

export interface OktaEventCodec {
  /** Avro single-object encoding of one Okta event (any JSON object). Throws ForwarderError('OF_AVRO_ENCODE') if `event` is not a plain JSON object. */
  encode(event: Record<string, unknown>): Buffer;
  /** Back to the original JSON object. Accepts single-object encoding (any known schema version) and Confluent wire format (if a resolver was given). Throws ForwarderError('OF_AVRO_DECODE') with a message naming what is wrong (unknown fingerprint, truncated, not Avro). */
  decode(bytes: Buffer): Record<string, unknown>;
  /** 8-byte CRC-64-AVRO fingerprint of the current schema. */
  readonly fingerprint: Buffer;
  readonly schemaVersion: number;
}

/**
 * `confluentSchemas` maps a Confluent schema registry id to the schema registered under it (the
 * parsed .avsc; undefined if unknown). It is called once per id; the result is cached.
 */
export function createOktaEventCodec(options: { confluentSchemas?: (id: number) => object | undefined } = {}): OktaEventCodec {
  return new AvroOktaEventCodec(knownSchemaVersions(), options.confluentSchemas);
}
