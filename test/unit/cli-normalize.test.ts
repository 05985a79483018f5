import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { readEventLine } from '../../src/cli/ndjson-lines.js';
import { prepareActivity } from '../../src/normalize/index.js';
import { PROJECT_ROOT, runCli, runNode } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

describe('okta-forwarder normalize', () => {
  it('turns Okta NDJSON into activity documents, one per line, and reports the lines it cannot place', async () => {
    const input = join(tempDir(), 'events.ndjson');
    const fixture = join(PROJECT_ROOT, 'test', 'fixtures', 'okta-events', 'okta-api-events.ndjson');
    const events = readFileSync(fixture, 'utf8').trim().split('\n');
    writeFileSync(input, [events[0], '{"uuid": "x", "eventType": "user.session.start"}', 'not json', events[1], ''].join('\n'));

    const result = await runCli(['normalize', input, '--org', 'acme']);
    expect(result.code).toBe(1);
    const documents = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { metadata: { uid: string; tenant_uid: string }; class_uid: number });
    expect(documents.map((d) => d.metadata.uid)).toEqual([JSON.parse(events[0]!).uuid, JSON.parse(events[1]!).uuid]);
    expect(documents.every((d) => d.metadata.tenant_uid === 'acme' && typeof d.class_uid === 'number')).toBe(true);
    expect(result.stderr).toMatch(/^line 2: .*published.*\(the sink dead-letters this event\)$/m);
    expect(result.stderr).toMatch(/^line 3: not JSON/m);
  });
});

describe('okta-forwarder normalize over hostile input (the built CLI)', () => {
  it('gives every line a document on stdout, exactly as the sink sends it, or its number and reason on stderr', async () => {
    const fixtures = join(PROJECT_ROOT, 'test', 'fixtures');
    const good = readFileSync(join(fixtures, 'okta-events', 'okta-api-events.ndjson'), 'utf8').trim().split('\n');
    const expectations = JSON.parse(readFileSync(join(fixtures, 'hostile', 'expectations.json'), 'utf8')) as Record<string, { line: number; name: string; normalize: string }[]>;
    // The fixtures' expectations are prepareActivity's; the preview takes the whole way into
    // Elasticsearch, and these never get past Kafka: nested over 1,000 levels (the Avro record's
    // bound) or over the events topic's 1 MB. The poller and import dead-letter them.
    const refusedBeforeTheSink = /^(deep-nesting\/|oversized-record\/|huge-strings\/(alternate-id-1mb|display-message-1mb|every-string-32kb)$)/;
    const hostile = Object.entries(expectations).flatMap(([file, entries]) => {
      const lines = readFileSync(join(fixtures, 'hostile', file), 'utf8').split('\n');
      return entries.map((entry) => ({ text: lines[entry.line - 1] as string, name: entry.name, normalize: refusedBeforeTheSink.test(entry.name) ? 'rejection' : entry.normalize }));
    });
    // A good line before and after each hostile one; a byte order mark, a CRLF line and a blank line besides.
    const input: { text: string; name: string; normalize: string }[] = [];
    hostile.forEach((entry, i) => input.push({ text: good[i % good.length] as string, name: 'good', normalize: 'document' }, entry));
    input.push({ text: `${good[0]}\r`, name: 'good with CRLF', normalize: 'document' }, { text: '', name: 'blank', normalize: 'skipped' }, { text: good[1] as string, name: 'good', normalize: 'document' });
    const file = join(tempDir(), 'hostile.ndjson');
    writeFileSync(file, `\uFEFF${input.map((entry) => entry.text).join('\n')}\n`);

    const result = await runNode(['dist/cli/main.js', 'normalize', file, '--org', 'acme']);
    const codec = createOktaEventCodec();
    expect(result.code).toBe(1);

    const documents = result.stdout.trim().split('\n');
    const expectedDocuments = input.filter((entry) => entry.normalize === 'document');
    expect(documents).toHaveLength(expectedDocuments.length);
    expectedDocuments.forEach((entry, i) => {
      // What the sink makes of the record: the event as its Avro record (written as import writes it) gives it back.
      const record = readEventLine({ number: i + 1, bytes: Buffer.from(entry.text) }, codec);
      expect('event' in record, entry.name).toBe(true);
      const action = prepareActivity(codec.decode((record as { event: { value: Buffer } }).event.value), { org: 'acme', indexPrefix: 'okta-activity' });
      expect(action.ok && JSON.stringify(action.document), entry.name).toBe(documents[i]);
    });

    const refused = input.map((entry, i) => ({ ...entry, line: i + 1 })).filter((entry) => entry.normalize === 'rejection');
    const reported = result.stderr.trim().split('\n');
    expect(reported.map((text) => Number(/^line (\d+): ./.exec(text)?.[1]))).toEqual(refused.map((entry) => entry.line));
    for (const [i, text] of reported.entries()) expect(text.length, refused[i]?.name).toBeLessThan(500);
  }, 120_000);
});
