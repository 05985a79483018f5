/**
 * Okta System Log events as Kafka record values: Avro, lossless (decoding gives back exactly the
 * JSON object that was encoded, unknown fields and irregular values included), schema in
 * `schemas/okta-log-event.avsc`. The poller encodes, the sink decodes. A codec is synchronous;
 * create one per process and reuse it (it keeps a scratch buffer and the schemas it resolved).
 */
import { AvroOktaEventCodec, type ConfluentSchemaResolver } from './okta-event-codec.js';
import { knownSchemaVersions } from './schema-versions.js';

export type { ConfluentSchemaResolver } from './okta-event-codec.js';

export interface OktaEventCodec {
  /**
   * One Okta event (any JSON object) as Avro: single-object encoding, or the Confluent wire format when the codec was created with `encodeWithConfluentId`; the body is the same.
   * A LargeNumber (a number too large for a double, see parseJsonKeepingLargeNumbers) is written as its original text, and decodes to what JSON.parse makes of that text.
   * Throws ForwarderError('OF_AVRO_ENCODE') if `event` is not a plain JSON object, holds a value that is not JSON, or nests more than MAX_NESTING_DEPTH levels.
   */
  encode(event: Record<string, unknown>): Buffer;
  /** Back to the original JSON object. Accepts single-object encoding (any known schema version) and Confluent wire format (if a resolver was given). Throws ForwarderError('OF_AVRO_DECODE') with a message naming what is wrong (unknown fingerprint, truncated, not Avro). */
  decode(bytes: Buffer): Record<string, unknown>;
  /** 8-byte CRC-64-AVRO fingerprint of the current schema. */
  readonly fingerprint: Buffer;
  readonly schemaVersion: number;
  /** The registry id this codec encodes with (Confluent wire format); undefined: single-object encoding. */
  readonly confluentSchemaId: number | undefined;
}

export interface OktaEventCodecOptions {
  /**
   * Maps a Confluent schema registry id to the schema registered under it, synchronously (a
   * registry is asked ahead of decoding: see ConfluentSchemaCache). It is called until it gives a
   * schema; the compiled schema is then kept for the life of the codec (registry ids are immutable).
   */
  confluentSchemas?: ConfluentSchemaResolver;
  /**
   * Encode in the Confluent wire format (00, this id, the body) instead of single-object encoding:
   * the id under which the registry holds the current schema (see publishingCodecOptions).
   */
  encodeWithConfluentId?: number;
}

export function createOktaEventCodec(options: OktaEventCodecOptions = {}): OktaEventCodec {
  return new AvroOktaEventCodec(knownSchemaVersions(), options.confluentSchemas, options.encodeWithConfluentId);
}
