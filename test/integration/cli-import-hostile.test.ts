import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentSchemaVersion } from '../../src/avro/schema-versions.js';
import { EXIT_DEAD_LETTERED } from '../../src/cli/exit-codes.js';
import { createKafka } from '../../src/kafka/client.js';
import { readToEnd } from '../../src/kafka/read-to-end.js';
import { EventGenerator } from '../../src/simulator/event-generator.js';
import { runNode } from '../support/cli.js';
import { duplicates, readPublishedEvents, writeTestConfig } from '../support/forwarder.js';

/** The built CLI, as a user runs it (`npx tsc -p tsconfig.json` first). */
const importFile = (input: string, configFile: string) => runNode(['dist/cli/main.js', 'import', input, '--org', 'acme', '--config', configFile]);

function goodEventLines(seed: number, count: number): string[] {
  const generator = new EventGenerator(seed);
  const from = Date.UTC(2025, 0, 1);
  return generator.generate(generator.spread(count, from, from + 86_400_000)).json;
}

interface DeadLetter {
  line: number;
  reason: string;
  stage: string | undefined;
  file: string | undefined;
  value: Buffer;
  headers: Record<string, string>;
}

async function readDeadLetters(config: ReturnType<typeof writeTestConfig>['config']): Promise<DeadLetter[]> {
  const deadLetters: DeadLetter[] = [];
  await readToEnd(createKafka(config.kafka), config.kafka.topics.deadLetter, (message) =>
    deadLetters.push({
      line: Number(message.headers?.['source.line']?.toString()),
      reason: String(message.headers?.reason?.toString()),
      stage: message.headers?.stage?.toString(),
      file: message.headers?.['source.file']?.toString(),
      value: message.value as Buffer,
      headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)])),
    }),
  );
  return deadLetters.sort((a, b) => a.line - b.line);
}

describe('okta-forwarder import: every line is imported or dead-lettered with its number and reason, and the import goes on', () => {
  it('imports 10,000 good lines around one bad line of each kind, each exactly once, and dead-letters the bad ones by line number (exit 3)', async () => {
    const { config, file, dir } = writeTestConfig([]);
    const good = goodEventLines(11, 10_000);
    const template = JSON.parse(good[0]!) as Record<string, unknown>;
    const variant = (uuid: string, extra: string) => JSON.stringify({ ...template, uuid }).replace(/}$/, `,${extra}}`);

    // Kept (lossless): numbers too large for a double, CR between tokens (JSON whitespace).
    const largeNumber = variant('large-number', '"debugContext":{"debugData":{"riskScore":1e400,"floor":-1E+999}}');
    const crBetweenTokens = variant('cr-between-tokens', '"extra":\r"x"');
    const imported = [largeNumber, crBetweenTokens];
    // Dead-lettered, each with its reason.
    const bad: { text: string | Buffer; reason: RegExp }[] = [
      { text: variant('deep', `"debugContext":{"debugData":${'{"a":['.repeat(2_500)}1${']}'.repeat(2_500)}}`), reason: /^encoding Okta event deep as Avro: nested too deeply \(more than 1000 levels, or cyclic\)$/ },
      { text: '{"uuid": "broken", "published": ', reason: /^not JSON: / },
      { text: '[{"uuid":"in-an-array"}]', reason: /^not a JSON object$/ },
      { text: variant('raw-cr', '"displayMessage":"one\rtwo"'), reason: /^not JSON: Bad control character in string literal/ },
      { text: Buffer.from(`{"uuid":"latin-1","displayMessage":"Jos\xe9"}`, 'latin1'), reason: /^not UTF-8 text$/ },
      { text: '"just a string"', reason: /^not a JSON object$/ },
      // 2 MB: more than the events topic takes (max.message.bytes, 1 MB by default).
      { text: variant('two-megabytes', `"debugContext":{"debugData":{"blob":"${'x'.repeat(2 * 1024 * 1024)}"}}`), reason: /^the record takes \d+ bytes, more than .* accepts \(max\.message\.bytes \d+\); the value is truncated/ },
    ];
    const blanks = ['', '   ', '\t'];

    // The file: a BOM, CRLF endings, the odd lines spread among the good ones.
    const lines: (string | Buffer)[] = [...good];
    const insertions = [...imported, ...bad.map((b) => b.text), ...blanks];
    insertions.forEach((text, i) => lines.splice(700 + i * 731, 0, text));
    const lineOf = (text: string | Buffer) => lines.indexOf(text) + 1;
    const input = join(dir, 'export.ndjson');
    writeFileSync(input, Buffer.concat([Buffer.from('\ufeff'), ...lines.flatMap((line) => [Buffer.from(line), Buffer.from('\r\n')])]));

    const result = await importFile(input, file);
    expect(result.code, result.stderr).toBe(EXIT_DEAD_LETTERED);
    expect(result.stderr).toContain(`imported 10,002 events from ${input}; 7 lines went to the dead-letter topic`);
    expect(result.stderr).toContain('3 blank lines skipped');

    const published = await readPublishedEvents(createKafka(config.kafka), config);
    expect(duplicates(published.map((p) => p.uuid))).toEqual([]);
    const byUuid = new Map(published.map((p) => [p.uuid, p.event]));
    expect(byUuid.size).toBe(10_002);
    for (const text of [...good, ...imported]) {
      const event = JSON.parse(text) as { uuid: string };
      expect(byUuid.get(event.uuid), event.uuid).toStrictEqual(event);
    }

    const deadLetters = await readDeadLetters(config);
    expect(deadLetters.map(({ line, stage, file: source }) => ({ line, stage, source }))).toEqual(bad.map((b) => ({ line: lineOf(b.text), stage: 'import', source: input })));
    deadLetters.forEach((deadLetter, i) => {
      expect(deadLetter.reason, `line ${deadLetter.line}`).toMatch(bad[i]!.reason);
      if (deadLetter.headers.truncated === 'true') {
        // Too large to keep whole: bounded, with the size and hash of what it stands for.
        expect(deadLetter.value.length).toBeLessThanOrEqual(64 * 1024);
        expect(Number(deadLetter.headers['original.size'])).toBeGreaterThan(2 * 1024 * 1024);
        expect(deadLetter.headers['original.sha256']).toMatch(/^[0-9a-f]{64}$/);
      } else {
        expect(deadLetter.value.equals(Buffer.from(bad[i]!.text)), `line ${deadLetter.line} is dead-lettered as it was in the file`).toBe(true);
      }
    });
  });

  it('numbers lines as an editor does: a raw CR inside a line is part of it and shifts no later line number', async () => {
    const { config, file, dir } = writeTestConfig([]);
    const [first, last] = goodEventLines(13, 2);
    const input = join(dir, 'cr.ndjson');
    writeFileSync(input, `${first}\n{"uuid":"raw-cr","displayMessage":"one\rtwo\rthree"}\nnot json\n${last}\n`);
    const result = await importFile(input, file);
    expect(result.code, result.stderr).toBe(EXIT_DEAD_LETTERED);
    expect((await readDeadLetters(config)).map(({ line, reason }) => ({ line, reason }))).toEqual([
      { line: 2, reason: expect.stringMatching(/^not JSON: Bad control character/) },
      { line: 3, reason: expect.stringMatching(/^not JSON/) },
    ]);
    expect((await readPublishedEvents(createKafka(config.kafka), config)).map((p) => p.uuid).sort()).toEqual([JSON.parse(first!).uuid, JSON.parse(last!).uuid].sort());
  });

  it('dead-letters a line over 16 MiB in a bounded form (its head, size and SHA-256) without holding it, and goes on', async () => {
    const { config, file, dir } = writeTestConfig([]);
    const [first, last] = goodEventLines(14, 2);
    const long = `{"uuid":"long","blob":"${'y'.repeat(17 * 1024 * 1024)}"}`;
    const input = join(dir, 'long.ndjson');
    writeFileSync(input, `${first}\n${long}\n${last}\n`);
    const result = await importFile(input, file);
    expect(result.code, result.stderr).toBe(EXIT_DEAD_LETTERED);
    const [deadLetter, ...others] = await readDeadLetters(config);
    expect(others).toEqual([]);
    expect(deadLetter).toMatchObject({ line: 2, stage: 'import', reason: expect.stringMatching(/^a line of 17,825,\d{3} bytes, over the 16,777,216 a line may have/) });
    expect(deadLetter!.headers['original.size']).toBe(String(Buffer.byteLength(long)));
    expect(deadLetter!.headers['original.sha256']).toBe(createHash('sha256').update(long).digest('hex'));
    expect(deadLetter!.value.equals(Buffer.from(long).subarray(0, 64 * 1024))).toBe(true);
    expect((await readPublishedEvents(createKafka(config.kafka), config)).map((p) => p.uuid).sort()).toEqual([JSON.parse(first!).uuid, JSON.parse(last!).uuid].sort());
  });

  it('keeps a number too large for a double as its original text in the Avro record', async () => {
    const { config, file, dir } = writeTestConfig([]);
    const line = '{"uuid":"large","debugContext":{"debugData":{"riskScore":1e400}},"client":{"geographicalContext":{"geolocation":{"lat":-2e999,"lon":1.5}}}}';
    const input = join(dir, 'large.ndjson');
    writeFileSync(input, `${line}\n`);
    const result = await importFile(input, file);
    expect(result.code, result.stderr).toBe(0);
    const records: Buffer[] = [];
    await readToEnd(createKafka(config.kafka), config.kafka.topics.events, (message) => records.push(message.value as Buffer));
    expect(records).toHaveLength(1);
    const record = currentSchemaVersion().type.fromBuffer(records[0]!.subarray(10)) as { debugContext: { debugData: string }; client: { geographicalContext: { geolocation: { _extra: string } } } };
    expect(record.debugContext.debugData).toBe('{"riskScore":1e400}');
    expect(record.client.geographicalContext.geolocation._extra).toBe('{"lat":-2e999}');
  });

  it('exits 0 when every non-blank line is imported, whatever the line endings, blank lines and byte order mark', async () => {
    const { config, file, dir } = writeTestConfig([]);
    const good = goodEventLines(12, 500);
    const input = join(dir, 'clean.ndjson');
    writeFileSync(input, `\ufeff${good.slice(0, 250).join('\r\n')}\r\n\r\n\n${good.slice(250).join('\n')}`);
    const result = await importFile(input, file);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`imported 500 events from ${input}; 2 blank lines skipped`);
    expect(result.stderr).not.toContain('dead-letter');
    const published = await readPublishedEvents(createKafka(config.kafka), config);
    expect(published.map((p) => p.event).sort((a, b) => String(a.uuid).localeCompare(String(b.uuid)))).toStrictEqual(
      good.map((text) => JSON.parse(text) as Record<string, unknown>).sort((a, b) => String(a.uuid).localeCompare(String(b.uuid))),
    );
  });
});
