import { createReadStream } from 'node:fs';
import { loadConfig } from '../../config/index.js';
import { createOktaEventCodec } from '../../avro/index.js';
import { encodedEventMessage } from '../../kafka/messages.js';
import { fitsLimit, KAFKA_DEFAULT_MAX_MESSAGE_BYTES, recordBytes } from '../../kafka/record-limits.js';
import { prepareActivity } from '../../normalize/index.js';
import { ndjsonLines, readEventLine } from '../ndjson-lines.js';
import type { CommandContext } from '../context.js';

/**
 * `okta-forwarder normalize [FILE] [--org ID] [--keep-raw]`: Okta events as NDJSON in (stdin when
 * no FILE), activity documents as NDJSON out: a preview of what lands in Elasticsearch, made by
 * the sink's own function (prepareActivity) with the configured index prefix, so each document
 * is exactly the one the sink would index, its `metadata.uid` being the `_id`. Every line gives a
 * document on stdout, or its number and reason on stderr: what `import` and the poller
 * dead-letter (not JSON, not an object, not encodable, too large for the events topic with Kafka's
 * default limit) or the sink does (an event it cannot make a document of); the exit code is then
 * 1. Each line takes the pipeline's own path: encoded to its Avro record as `import` does,
 * decoded as the sink does, then made a document. Lines end at `\n` only (a `\r` inside a line
 * stays in it); a UTF-8 byte order mark before the first line is skipped.
 */
export async function normalizeCommand(context: CommandContext): Promise<number> {
  const [file] = context.positionals;
  const org = typeof context.flags.org === 'string' ? context.flags.org : 'default';
  const { config } = loadConfig({ file: context.configFile });
  const options = { org, keepRaw: context.flags['keep-raw'] === true, indexPrefix: config.elasticsearch.indexPrefix };
  const input = file === undefined || file === '-' ? process.stdin : createReadStream(file);
  input.on('error', (err: NodeJS.ErrnoException) => {
    process.stderr.write(`okta-forwarder normalize: reading ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}\n`);
    process.exit(2);
  });
  const codec = createOktaEventCodec();
  let failed = 0;
  for await (const line of ndjsonLines(input as AsyncIterable<Buffer | string>)) {
    const refuse = (reason: string) => {
      failed += 1;
      process.stderr.write(`line ${line.number}: ${reason}\n`);
    };
    // The way into Kafka first, as `import` and the poller take it: what cannot be an event
    // record, or is too large for the events topic, never reaches the sink.
    const outcome = readEventLine(line, codec);
    if ('blank' in outcome) continue;
    if ('rejected' in outcome) {
      refuse(`${outcome.rejected.reason} (import and the poller dead-letter this line)`);
      continue;
    }
    const record = encodedEventMessage(org, outcome.event);
    if (!fitsLimit(record, KAFKA_DEFAULT_MAX_MESSAGE_BYTES)) {
      refuse(`the record takes ${recordBytes(record)} bytes, more than the events topic accepts with Kafka's default max.message.bytes (${KAFKA_DEFAULT_MAX_MESSAGE_BYTES}) (import and the poller dead-letter this line)`);
      continue;
    }
    // Then what the sink does with the record: decode it, make the document.
    const prepared = prepareActivity(codec.decode(outcome.event.value), options);
    if (!prepared.ok) {
      refuse(`${prepared.reason} (the sink dead-letters this event)`);
      continue;
    }
    if (!process.stdout.write(`${JSON.stringify(prepared.document)}\n`)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
  return failed === 0 ? 0 : 1;
}
