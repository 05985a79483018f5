/**
 * CRC-64-AVRO, the 64-bit Rabin fingerprint that the Avro specification defines for schemas
 * ("Schema Fingerprints"), computed over a schema's Parsing Canonical Form. avsc 5.7 only offers
 * the hash algorithms of node:crypto, so the algorithm is written here as the specification gives
 * it. It runs once per schema, never per record, so BigInt arithmetic is fast enough.
 */

const EMPTY = 0xc15d213aa4d7a795n;
const TABLE = buildTable();

function buildTable(): BigUint64Array {
  const table = new BigUint64Array(256);
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) {
      fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n));
    }
    table[i] = fp;
  }
  return table;
}

/** The fingerprint of `bytes` as an unsigned 64-bit integer (Java's `long` reinterpreted: BigInt.asIntN(64, …) gives the spec's signed values). */
export function crc64Avro(bytes: Uint8Array): bigint {
  let fp = EMPTY;
  for (const byte of bytes) {
    fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(byte)) & 0xffn)]!;
  }
  return fp;
}

/** The 8 bytes that Avro single-object encoding writes: the fingerprint of the canonical form, little-endian. */
export function schemaFingerprint(parsingCanonicalForm: string): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(crc64Avro(Buffer.from(parsingCanonicalForm, 'utf8')));
  return bytes;
}

/** How fingerprints are shown in messages: the 64-bit value in hex, as Avro tools print it. */
export function formatFingerprint(fingerprint: Uint8Array): string {
  return `0x${Buffer.from(fingerprint.buffer, fingerprint.byteOffset, 8).readBigUInt64LE().toString(16).padStart(16, '0')}`;
}
