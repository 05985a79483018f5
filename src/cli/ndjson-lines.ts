import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import type { OktaEventCodec } from '../avro/index.js';
import { encodeOrReject, type EncodedEvent, type RejectedItem } from '../kafka/messages.js';
import { formatCount } from './terminal.js';

/**
 * The lines of an NDJSON stream, numbered as an editor numbers them. Only "\n" ends a line:
 * readline also ends one at a lone "\r", which shifted every later line number after a raw CR
 * inside a line. The "\r" of a CRLF ending is removed; any other CR stays part of its line (inside
 * a JSON string it makes the line invalid JSON, between tokens it is whitespace, as JSON says). A
 * UTF-8 byte order mark at the start of the stream is removed.
 *
 * Memory stays bounded: the stream is read a chunk at a time, and a line longer than `maxLineBytes`
 * is not kept, only its first bytes, its size and its SHA-256 (for a bounded dead letter).
 */

/** Longer lines are reported as OverLongLine: no Okta event comes near it. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** How much of an over-long line is kept. */
export const OVER_LONG_HEAD_BYTES = 64 * 1024;

export type NdjsonLine = { number: number; bytes: Buffer } | { number: number; overLong: OverLongLine };

export interface OverLongLine {
  /** The first OVER_LONG_HEAD_BYTES bytes. */
  head: Buffer;
  /** The whole line's size in bytes, without its "\n". */
  size: number;
  /** SHA-256 of the whole line, hex. */
  sha256: string;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export async function* ndjsonLines(input: AsyncIterable<Buffer | string>, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<NdjsonLine> {
  let number = 0;
  // The current line so far: pieces of chunks, or, once over the limit, its head and a running hash.
  let pieces: Buffer[] = [];
  let size = 0;
  let overLong: { head: Buffer; hash: Hash } | undefined;

  const append = (piece: Buffer): void => {
    size += piece.length;
    if (overLong) {
      overLong.hash.update(piece);
    } else if (size > maxLineBytes) {
      const sofar = Buffer.concat([...pieces, piece]);
      overLong = { head: Buffer.from(sofar.subarray(0, OVER_LONG_HEAD_BYTES + BOM.length)), hash: createHash('sha256').update(sofar) };
      pieces = [];
    } else if (piece.length > 0) {
      pieces.push(piece);
    }
  };

  const complete = (): NdjsonLine => {
    number += 1;
    let line: NdjsonLine;
    if (overLong) {
      // The hash covers the line as it is in the file, BOM and CR included.
      const head = number === 1 && startsWithBom(overLong.head) ? overLong.head.subarray(BOM.length) : overLong.head;
      line = { number, overLong: { head: head.subarray(0, OVER_LONG_HEAD_BYTES), size, sha256: overLong.hash.digest('hex') } };
    } else {
      let bytes = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
      if (number === 1 && startsWithBom(bytes)) bytes = bytes.subarray(BOM.length);
      if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
      line = { number, bytes };
    }
    pieces = [];
    size = 0;
    overLong = undefined;
    return line;
  };

  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (;;) {
      const newline = buffer.indexOf(0x0a, start);
      append(buffer.subarray(start, newline < 0 ? buffer.length : newline));
      if (newline < 0) break;
      yield complete();
      start = newline + 1;
    }
  }
  // A last line without "\n" is a line all the same; nothing after a final "\n" is not.
  if (size > 0) yield complete();
}

function startsWithBom(bytes: Buffer): boolean {
  return bytes.length >= BOM.length && bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2];
}

export type LineOutcome = { blank: true } | { event: EncodedEvent } | { rejected: RejectedItem };

/**
 * The event record of a line, as `import` publishes it and the `normalize` preview reads it, or
 * why the line cannot be one. Never throws: every line has an outcome.
 */
export function readEventLine(line: NdjsonLine, codec: OktaEventCodec): LineOutcome {
  if ('overLong' in line) {
    const { head, size, sha256 } = line.overLong;
    return {
      rejected: {
        json: head,
        reason: `a line of ${formatCount(size)} bytes, over the ${formatCount(MAX_LINE_BYTES)} a line may have; the dead letter holds its first ${formatCount(head.length)} bytes`,
        // As the publisher gives them for a record too large for its topic.
        headers: { 'original.size': String(size), 'original.sha256': sha256, truncated: 'true' },
      },
    };
  }
  const { bytes } = line;
  if (isBlank(bytes)) return { blank: true };
  // Decoding would replace each invalid byte with U+FFFD, silently changing the event.
  if (!isUtf8(bytes)) return { rejected: { json: bytes, reason: 'not UTF-8 text' } };
  const text = bytes.toString('utf8');
  let item: unknown;
  try {
    item = JSON.parse(text);
  } catch (err) {
    return { rejected: { json: text, reason: `not JSON: ${(err as Error).message.replace(/, .* is not valid JSON$/s, '')}` } };
  }
  return encodeOrReject(item, () => text, codec);
}

function isBlank(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  return true;
}
