import { ForwarderError } from '../errors.js';
import { formatFingerprint } from './crc64-avro.js';
import type { OktaEventCodec } from './index.js';
import { describeValue, findNonJsonValue, isPlainObject, MAX_NESTING_DEPTH, NotJsonError, TooDeepError } from './json-text.js';
import { compileSchemaVersion, type SchemaVersion } from './schema-versions.js';
import { MalformedRecordError } from './value-mappings.js';
import { confluentHeader, readWriterSchemaReference, singleObjectHeader } from './wire-format.js';

/**
 * A Confluent schema id to the schema registered under it (the parsed .avsc, or its JSON text);
 * undefined when it is not known. May throw an Error whose message says why the id cannot be
 * resolved (it becomes the decode error's reason).
 */
export type ConfluentSchemaResolver = (id: number) => object | string | undefined;

/** Encoding writes into one reused buffer, then copies out exactly the record's bytes. */
const SCRATCH_BYTES = 64 * 1024;
/** After an unusually large event, the scratch buffer goes back to its usual size rather than pinning the memory. */
const SCRATCH_RETAINED_MAX_BYTES = 1024 * 1024;

/**
 * Decoding reads a record with its writer's schema, whatever the current version: the JSON object
 * is fully determined by the writer schema and the record, and resolving into a newer schema
 * would turn "a field the writer did not know" into null, blurring missing and null. Versions stay
 * compatible all the same (new fields optional with defaults, tested), for readers that resolve.
 */
export class AvroOktaEventCodec implements OktaEventCodec {
  readonly fingerprint: Buffer;
  readonly schemaVersion: number;
  readonly confluentSchemaId: number | undefined;
  private readonly current: SchemaVersion;
  /** What every encoded record starts with: the single-object header, or the Confluent header with the registry's id; the body follows it. */
  private readonly header: Buffer;
  private scratch: Buffer;
  private readonly confluentWriters = new Map<number, SchemaVersion>();

  constructor(
    private readonly versions: readonly SchemaVersion[],
    private readonly confluentSchemas: ConfluentSchemaResolver | undefined,
    /** The id the registry gave the current schema: encode in the Confluent wire format with it. */
    encodeWithConfluentId?: number,
  ) {
    this.current = versions[versions.length - 1]!;
    this.schemaVersion = this.current.version!;
    this.confluentSchemaId = encodeWithConfluentId;
    this.fingerprint = Buffer.from(this.current.fingerprint);
    this.header = encodeWithConfluentId === undefined ? singleObjectHeader(this.current.fingerprint) : confluentHeader(encodeWithConfluentId);
    this.scratch = this.newScratch(SCRATCH_BYTES);
  }

  encode(event: Record<string, unknown>): Buffer {
    if (!isPlainObject(event)) {
      throw new ForwarderError('OF_AVRO_ENCODE', `encoding an Okta event as Avro: expected a JSON object, got ${describeValue(event)}`);
    }
    let record: Record<string, unknown>;
    try {
      record = this.current.mapping.toAvro(event);
    } catch (error) {
      throw encodeError(event, error);
    }
    return this.writeRecord(record);
  }

  decode(bytes: Buffer): Record<string, unknown> {
    const input: unknown = bytes;
    if (!(input instanceof Uint8Array)) {
      throw new ForwarderError('OF_AVRO_DECODE', `decoding an Avro record: expected bytes, got ${describeValue(input)}`);
    }
    const buffer = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    let writer: SchemaVersion;
    let bodyOffset: number;
    try {
      const reference = readWriterSchemaReference(buffer);
      bodyOffset = reference.bodyOffset;
      writer = reference.kind === 'single-object' ? this.singleObjectWriter(reference.fingerprint) : this.confluentWriter(reference.schemaId);
    } catch (error) {
      throw new ForwarderError('OF_AVRO_DECODE', `decoding an Avro record: ${(error as Error).message}`, { cause: error });
    }
    const schemaName = writer.version === undefined ? `schema ${formatFingerprint(writer.fingerprint)}` : `schema version ${writer.version}`;
    let decoded: { value: unknown; offset: number };
    try {
      decoded = writer.type.decode(buffer, bodyOffset);
    } catch (error) {
      throw new ForwarderError('OF_AVRO_DECODE', `decoding an Avro record (${schemaName}): the body is not a LogEvent record (${(error as Error).message})`, { cause: error });
    }
    if (decoded.offset < 0) {
      throw new ForwarderError('OF_AVRO_DECODE', `decoding an Avro record (${schemaName}): truncated, the ${buffer.length - bodyOffset}-byte body ends inside the record`);
    }
    if (decoded.offset !== buffer.length) {
      throw new ForwarderError('OF_AVRO_DECODE', `decoding an Avro record (${schemaName}): ${buffer.length - decoded.offset} bytes after the end of the record`);
    }
    try {
      return writer.mapping.fromAvro(decoded.value);
    } catch (error) {
      const reason = error instanceof MalformedRecordError ? error.message : `unexpected content (${(error as Error).message})`;
      throw new ForwarderError('OF_AVRO_DECODE', `decoding an Avro record (${schemaName}): ${reason}`, { cause: error });
    }
  }

  /** The header, then the body: the same body bytes whichever header the codec writes. */
  private writeRecord(record: Record<string, unknown>): Buffer {
    let end = this.current.type.encode(record, this.scratch, this.header.length);
    if (end < 0) {
      // avsc returns minus the number of missing bytes.
      this.scratch = this.newScratch(Math.max(this.scratch.length * 2, this.scratch.length - end));
      end = this.current.type.encode(record, this.scratch, this.header.length);
    }
    const bytes = Buffer.allocUnsafe(end);
    this.scratch.copy(bytes, 0, 0, end);
    if (this.scratch.length > SCRATCH_RETAINED_MAX_BYTES) this.scratch = this.newScratch(SCRATCH_BYTES);
    return bytes;
  }

  private newScratch(size: number): Buffer {
    const scratch = Buffer.allocUnsafe(size);
    this.header.copy(scratch, 0);
    return scratch;
  }

  private singleObjectWriter(fingerprint: Buffer): SchemaVersion {
    for (const version of this.versions) {
      if (version.fingerprint.equals(fingerprint)) return version;
    }
    const known = this.versions.map((version) => `${formatFingerprint(version.fingerprint)} (version ${version.version})`).join(', ');
    throw new Error(`unknown schema fingerprint ${formatFingerprint(fingerprint)}; known: ${known}`);
  }

  private confluentWriter(schemaId: number): SchemaVersion {
    const cached = this.confluentWriters.get(schemaId);
    if (cached) return cached;
    if (!this.confluentSchemas) {
      throw new Error(`Confluent wire format (schema id ${schemaId}), but no schema registry is configured to look the id up: set schemaRegistry.url`);
    }
    let schema: unknown;
    try {
      schema = this.confluentSchemas(schemaId);
    } catch (error) {
      throw new Error(`resolving Confluent schema id ${schemaId}: ${(error as Error).message}`, { cause: error });
    }
    if (schema === undefined || schema === null) throw new Error(`unknown Confluent schema id ${schemaId}`);
    let writer: SchemaVersion;
    try {
      writer = compileSchemaVersion(typeof schema === 'string' ? (JSON.parse(schema) as object) : (schema as object), undefined);
    } catch (error) {
      throw new Error(`Confluent schema id ${schemaId} is not a lossless LogEvent schema: ${(error as Error).message}`, { cause: error });
    }
    // A registry may have dropped attributes (logicalType json) that the mapping relies on: a schema
    // with the canonical form of a known version is read as that version.
    const known = this.versions.find((version) => version.fingerprint.equals(writer.fingerprint));
    this.confluentWriters.set(schemaId, known ?? writer);
    return known ?? writer;
  }
}

function encodeError(event: Record<string, unknown>, error: unknown): ForwarderError {
  const uuid = typeof event.uuid === 'string' ? ` ${event.uuid.slice(0, 64)}` : '';
  if (error instanceof NotJsonError) {
    const where = findNonJsonValue(event) ?? 'a value';
    return new ForwarderError('OF_AVRO_ENCODE', `encoding Okta event${uuid} as Avro: ${shortened(where)} is not JSON`, { cause: error });
  }
  // RangeError: the stack ran out all the same (a cycle through typed records, say).
  if (error instanceof TooDeepError || error instanceof RangeError) {
    return new ForwarderError('OF_AVRO_ENCODE', `encoding Okta event${uuid} as Avro: nested too deeply (more than ${MAX_NESTING_DEPTH} levels, or cyclic)`, { cause: error });
  }
  return new ForwarderError('OF_AVRO_ENCODE', `encoding Okta event${uuid} as Avro: ${(error as Error).message}`, { cause: error });
}

/** A path in a message: a hostile event can make it as long as the event. */
function shortened(where: string): string {
  return where.length <= 300 ? where : `${where.slice(0, 200)}…${where.slice(-100)}`;
}
