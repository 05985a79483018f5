import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { fileURLToPath } from 'node:url';
import { ForwarderError } from '../errors.js';
import { schemaFingerprint } from './crc64-avro.js';
import { compileEventMapping, type EventMapping } from './event-mapping.js';

/**
 * Every version of the LogEvent schema that records were ever written with, oldest first; the last
 * one is what records are written with today. A record names its writer schema by fingerprint, so
 * a version must stay here for as long as Kafka can hold records written with it: when a new
 * version arrives, copy the current file to `okta-log-event.v<N>.avsc`, list it here, and put the
 * new schema in `okta-log-event.avsc` (see the evolution rules in the schema's doc).
 */
const SCHEMA_FILES: readonly { readonly version: number; readonly file: string }[] = [{ version: 1, file: 'okta-log-event.avsc' }];

/** `schemas/` beside `src/` (tsx, vitest) and beside `dist/` (the build): both are two levels up. */
const SCHEMAS_DIR = new URL('../../schemas/', import.meta.url);

export interface SchemaVersion {
  /** 1, 2, …; undefined for a schema that only a Confluent registry knows. */
  readonly version: number | undefined;
  readonly schema: object;
  readonly type: avro.Type;
  readonly parsingCanonicalForm: string;
  /** CRC-64-AVRO of the Parsing Canonical Form, little-endian, as single-object encoding writes it. */
  readonly fingerprint: Buffer;
  readonly mapping: EventMapping;
}

/** Parses a schema, checks that it follows the lossless conventions and compiles its mapping. Throws if it does not. */
export function compileSchemaVersion(schema: object, version: number | undefined): SchemaVersion {
  // The conventions first: their errors say what would be lost, avsc's only what is invalid.
  const mapping = compileEventMapping(schema);
  // Unions ["null", T] as plain values (null or T), which is what the mapping produces and reads.
  const type = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: false, omitRecordMethods: true });
  // avsc's schema() without attributes is the Parsing Canonical Form (full names; only name, type,
  // fields, symbols, items, values, size; in that order); its own fingerprint() hashes the same text.
  const parsingCanonicalForm = JSON.stringify(type.schema());
  return {
    version,
    schema,
    type,
    parsingCanonicalForm,
    fingerprint: schemaFingerprint(parsingCanonicalForm),
    mapping,
  };
}

let knownVersions: readonly SchemaVersion[] | undefined;

/** All known versions, oldest first, read and compiled once per process. */
export function knownSchemaVersions(): readonly SchemaVersion[] {
  knownVersions ??= SCHEMA_FILES.map(({ version, file }) => {
    const path = fileURLToPath(new URL(file, SCHEMAS_DIR));
    let schema: object;
    try {
      schema = JSON.parse(readFileSync(path, 'utf8')) as object;
    } catch (err) {
      // Part of the installation, not a dependency: waiting cannot bring it back.
      throw new ForwarderError('OF_INSTALLATION', `reading the record schema ${path}: ${(err as Error).message}; the installation is incomplete (schemas/ belongs beside dist/)`, { cause: err });
    }
    return compileSchemaVersion(schema, version);
  });
  return knownVersions;
}

export function currentSchemaVersion(): SchemaVersion {
  const versions = knownSchemaVersions();
  return versions[versions.length - 1]!;
}
