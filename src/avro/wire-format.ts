/**
 * The two ways a Kafka record value names its Avro writer schema:
 * - Avro single-object encoding (Avro specification): C3 01, the schema's 8-byte CRC-64-AVRO
 *   fingerprint (little-endian), then the binary body. Used when there is no schema registry.
 * - Confluent wire format: magic byte 00, the registry's 4-byte big-endian schema id, then the
 *   binary body. Used when a schema registry is configured (schemaRegistry.url).
 */

export const SINGLE_OBJECT_MARKER = Buffer.from([0xc3, 0x01]);
export const SINGLE_OBJECT_HEADER_LENGTH = 10;
export const CONFLUENT_MAGIC_BYTE = 0x00;
export const CONFLUENT_HEADER_LENGTH = 5;

export type WriterSchemaReference =
  | { readonly kind: 'single-object'; readonly fingerprint: Buffer; readonly bodyOffset: number }
  | { readonly kind: 'confluent'; readonly schemaId: number; readonly bodyOffset: number };

/** Which schema wrote `bytes`, from its header. Throws an Error whose message says what is wrong with the header. */
export function readWriterSchemaReference(bytes: Buffer): WriterSchemaReference {
  if (bytes.length >= 2 && bytes[0] === SINGLE_OBJECT_MARKER[0] && bytes[1] === SINGLE_OBJECT_MARKER[1]) {
    if (bytes.length < SINGLE_OBJECT_HEADER_LENGTH) {
      throw new Error(`truncated single-object header: ${bytes.length} bytes, the marker and fingerprint take ${SINGLE_OBJECT_HEADER_LENGTH}`);
    }
    return { kind: 'single-object', fingerprint: bytes.subarray(2, SINGLE_OBJECT_HEADER_LENGTH), bodyOffset: SINGLE_OBJECT_HEADER_LENGTH };
  }
  if (bytes.length >= 1 && bytes[0] === CONFLUENT_MAGIC_BYTE) {
    if (bytes.length < CONFLUENT_HEADER_LENGTH) {
      throw new Error(`truncated Confluent header: ${bytes.length} bytes, the magic byte and schema id take ${CONFLUENT_HEADER_LENGTH}`);
    }
    return { kind: 'confluent', schemaId: bytes.readInt32BE(1), bodyOffset: CONFLUENT_HEADER_LENGTH };
  }
  const start = bytes.subarray(0, 4).toString('hex') || 'nothing (empty value)';
  throw new Error(`not Avro: expected the single-object marker c301 or the Confluent magic byte 00, found ${start}`);
}

/** Single-object header for a schema fingerprint. */
export function singleObjectHeader(fingerprint: Buffer): Buffer {
  return Buffer.concat([SINGLE_OBJECT_MARKER, fingerprint]);
}

/** Largest Confluent schema id: the wire format holds a signed 32-bit integer, and registries hand out positive ones. */
export const MAX_CONFLUENT_SCHEMA_ID = 0x7fffffff;

/** Confluent header for a registry schema id. Throws a RangeError for an id the wire format cannot hold. */
export function confluentHeader(schemaId: number): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > MAX_CONFLUENT_SCHEMA_ID) {
    throw new RangeError(`a Confluent schema id is an integer from 0 to ${MAX_CONFLUENT_SCHEMA_ID}, not ${String(schemaId)}`);
  }
  const header = Buffer.alloc(CONFLUENT_HEADER_LENGTH);
  header[0] = CONFLUENT_MAGIC_BYTE;
  header.writeInt32BE(schemaId, 1);
  return header;
}

/** The schema id of a record in the Confluent wire format; undefined for anything else (single-object, empty, truncated). */
export function confluentSchemaId(bytes: Uint8Array | null | undefined): number | undefined {
  if (!bytes || bytes.length < CONFLUENT_HEADER_LENGTH || bytes[0] !== CONFLUENT_MAGIC_BYTE) return undefined;
  return ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) | 0;
}
