import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { ndjsonLines, OVER_LONG_HEAD_BYTES, readEventLine, type NdjsonLine } from '../../src/cli/ndjson-lines.js';
import { Random } from '../../src/simulator/random.js';

/** The lines of `bytes` delivered in chunks of the given sizes (cycled). */
async function lines(bytes: Buffer | string, chunkSizes: number[] = [bytes.length || 1], maxLineBytes?: number): Promise<NdjsonLine[]> {
  const data = Buffer.from(bytes);
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const size = Math.max(1, chunkSizes[i % chunkSizes.length]!);
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  const result: NdjsonLine[] = [];
  for await (const line of ndjsonLines(Readable.from(chunks), maxLineBytes)) result.push(line);
  return result;
}
const texts = (result: NdjsonLine[]) => result.map((line) => ('bytes' in line ? `${line.number}:${line.bytes.toString('utf8')}` : `${line.number}:over-long`));

describe('NDJSON lines: numbered as an editor numbers them', () => {
  it('ends lines at "\\n" only: a raw CR inside a line stays in it and shifts no later number', async () => {
    expect(texts(await lines('{"a":"x\ry"}\n{"b":1}\r\n\r\n{"c":\r2}\nlast'))).toEqual(['1:{"a":"x\ry"}', '2:{"b":1}', '3:', '4:{"c":\r2}', '5:last']);
  });

  it('removes one CR of a CRLF ending, and a UTF-8 byte order mark at the start of the stream only', async () => {
    expect(texts(await lines('\ufeff{"a":1}\r\n\ufeff{"b":2}\r\r\n'))).toEqual(['1:{"a":1}', '2:\ufeff{"b":2}\r']);
    expect(texts(await lines('\ufeff'))).toEqual(['1:']);
  });

  it('gives the same lines however the stream is cut into chunks (a BOM, a CRLF or a character cut in two)', async () => {
    const text = '\ufeff{"é":"中😀"}\r\n\n{"a":"\r"}\r\n\r\nx\n\n';
    const whole = texts(await lines(text));
    expect(whole).toEqual(['1:{"é":"中😀"}', '2:', '3:{"a":"\r"}', '4:', '5:x', '6:']);
    const random = new Random(31);
    for (let i = 0; i < 200; i++) {
      const sizes = Array.from({ length: 5 }, () => random.int(1, 7));
      expect(texts(await lines(text, sizes)), `chunks ${sizes.join(',')}`).toEqual(whole);
    }
  });

  it('does not count what follows a final "\\n" as a line, and counts a last line without one', async () => {
    expect(texts(await lines('a\nb\n'))).toEqual(['1:a', '2:b']);
    expect(texts(await lines('a\nb'))).toEqual(['1:a', '2:b']);
    expect(texts(await lines(''))).toEqual([]);
    expect(texts(await lines('\n'))).toEqual(['1:']);
  });

  it('keeps only the head, the size and the SHA-256 of a line over the limit, and numbers the next lines right', async () => {
    const long = 'x'.repeat(OVER_LONG_HEAD_BYTES * 3);
    const result = await lines(`a\n${long}\r\nb\n`, [1000, 4096, 7], OVER_LONG_HEAD_BYTES * 2);
    expect(texts(result)).toEqual(['1:a', '2:over-long', '3:b']);
    const overLong = result[1] as Extract<NdjsonLine, { overLong: unknown }>;
    expect(overLong.overLong.head).toEqual(Buffer.from(long.slice(0, OVER_LONG_HEAD_BYTES)));
    expect(overLong.overLong.size).toBe(long.length + 1);
    expect(overLong.overLong.sha256).toBe(createHash('sha256').update(`${long}\r`).digest('hex'));
  });
});

describe('a line of an import: its event, or why it is not one', () => {
  const codec = createOktaEventCodec();
  const outcome = (text: string | Buffer) => readEventLine({ number: 1, bytes: Buffer.from(text) }, codec);

  it('skips blank lines (JSON whitespace only), and dead-letters other blanks as not JSON', () => {
    for (const blank of ['', ' ', '\t \r']) expect(outcome(blank)).toEqual({ blank: true });
    expect(outcome('\u00a0')).toEqual({ rejected: { json: '\u00a0', reason: expect.stringMatching(/^not JSON/) } });
  });

  it('dead-letters bytes that are not UTF-8 as they are, instead of changing them into U+FFFD', () => {
    const latin1 = Buffer.from('{"displayName":"Jos\xe9"}', 'latin1');
    expect(outcome(latin1)).toEqual({ rejected: { json: latin1, reason: 'not UTF-8 text' } });
  });

  it('dead-letters a line with a raw CR inside a string as not JSON, and imports one with a CR between tokens', () => {
    expect(outcome('{"uuid":"a\rb"}')).toEqual({ rejected: { json: '{"uuid":"a\rb"}', reason: expect.stringMatching(/^not JSON: Bad control character in string literal/) } });
    expect(outcome('{"uuid":\r"ab"}')).toMatchObject({ event: { key: 'ab' } });
  });

  it('imports a number too large for a double, and dead-letters arrays and deep nesting with the reason', () => {
    expect(outcome('{"uuid":"big","debugContext":{"debugData":{"n":1e400}}}')).toMatchObject({ event: { key: 'big' } });
    expect(outcome('[{"uuid":"a"}]')).toEqual({ rejected: { json: '[{"uuid":"a"}]', reason: 'not a JSON object' } });
    const deep = `{"uuid":"deep","x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(outcome(deep)).toEqual({ rejected: { json: deep, reason: expect.stringMatching(/nested too deeply/) } });
  });

  it('dead-letters an over-long line as its head, with its size and hash', () => {
    const head = Buffer.from('{"uuid":');
    expect(readEventLine({ number: 7, overLong: { head, size: 20_000_000, sha256: 'ab'.repeat(32) } }, codec)).toEqual({
      rejected: {
        json: head,
        reason: expect.stringMatching(/^a line of 20,000,000 bytes, over the 16,777,216 a line may have/),
        headers: { 'original.size': '20000000', 'original.sha256': 'ab'.repeat(32), truncated: 'true' },
      },
    });
  });
});
