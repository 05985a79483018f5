import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import type { Message } from 'kafkajs';
import { createOktaEventCodec } from '../../avro/index.js';
import { publishingCodecOptions } from '../../avro/schema-registry.js';
import { loadConfig } from '../../config/index.js';
import { ConfigError, ForwarderError } from '../../errors.js';
import { createKafka, TRANSACTIONAL_RETRY } from '../../kafka/client.js';
import { deadLetterMessage, eventMessage } from '../../kafka/messages.js';
import { keyHashPartitioner } from '../../kafka/partitioner.js';
import { ensureTopics } from '../../kafka/topics.js';
import { createLogger } from '../../logging/logger.js';
import type { CommandContext } from '../context.js';
import { bar, formatCount, StatusLine } from '../terminal.js';

const BATCH = 1000;

/**
 * `okta-forwarder import FILE --org ID`: publishes Okta events from an NDJSON file (an export,
 * another tool's archive; `-` for stdin) into the events topic, with the same encoding and headers
 * as the poller. Each batch is one transaction. A line that is not a JSON object goes to the
 * dead-letter topic with its line number and the reason; nothing is dropped. Importing the same
 * file twice puts the events in Kafka twice: the sink's uuid-based ids make that harmless.
 */
export async function importCommand(context: CommandContext): Promise<number> {
  const [file] = context.positionals;
  const org = typeof context.flags.org === 'string' ? context.flags.org : undefined;
  if (!file) throw new ForwarderError('OF_IMPORT_INPUT', 'import needs a file: okta-forwarder import FILE --org ID (FILE "-" reads stdin)');
  const { config, source } = loadConfig({ file: context.configFile });
  if (!org || !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(org)) {
    throw new ConfigError(source, ['--org: import needs the org id the events belong to (lower-case letters, digits, "-", "_"), as in okta.orgs[].id']);
  }
  const logger = createLogger({ level: config.log.level, base: { command: 'import', org } });
  const size = file === '-' ? undefined : fileSize(file);
  const input = file === '-' ? process.stdin : createReadStream(file);
  const kafka = createKafka(config.kafka, logger);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, config.kafka).finally(() => admin.disconnect());
  const codec = createOktaEventCodec(await publishingCodecOptions(config, logger));
  const producer = kafka.producer({ transactionalId: `${config.kafka.clientId}-import-${org}-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1, createPartitioner: keyHashPartitioner, retry: TRANSACTIONAL_RETRY });
  await producer.connect();
  const line = new StatusLine();
  const started = Date.now();
  let bytes = 0;
  let lineNumber = 0;
  let imported = 0;
  let deadLettered = 0;
  let events: Message[] = [];
  let deadLetters: Message[] = [];
  let lastLog = started;

  const flush = async () => {
    if (events.length === 0 && deadLetters.length === 0) return;
    const transaction = await producer.transaction();
    try {
      const topicMessages = [{ topic: config.kafka.topics.events, messages: events }];
      if (deadLetters.length > 0) topicMessages.push({ topic: config.kafka.topics.deadLetter, messages: deadLetters });
      await transaction.sendBatch({ topicMessages });
      await transaction.commit();
    } catch (err) {
      await transaction.abort().catch(() => undefined);
      throw new ForwarderError('OF_KAFKA_PUBLISH', `importing ${file}: publishing lines up to ${lineNumber} failed: ${(err as Error).message}`, { cause: err });
    }
    imported += events.length;
    deadLettered += deadLetters.length;
    events = [];
    deadLetters = [];
    const elapsed = (Date.now() - started) / 1000;
    const share = size ? bytes / size : undefined;
    line.update(
      `${share === undefined ? '' : `${bar(share)} ${(share * 100).toFixed(1)}%  `}${formatCount(imported)} events  ${formatCount(imported / Math.max(elapsed, 0.001))} ev/s` +
        (deadLettered > 0 ? `  ${formatCount(deadLettered)} dead-lettered` : ''),
    );
    if (Date.now() - lastLog >= 5000) {
      lastLog = Date.now();
      logger.info({ imported, deadLettered, progress: share === undefined ? null : Number(share.toFixed(4)) }, 'import progress');
    }
  };

  try {
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      lineNumber += 1;
      bytes += Buffer.byteLength(text) + 1;
      if (text.trim() === '') continue;
      const reason = classify(text);
      if (typeof reason === 'string') {
        deadLetters.push(deadLetterMessage(org, text, { stage: 'import', reason, 'source.file': file, 'source.line': String(lineNumber) }));
        logger.warn({ line: lineNumber, reason }, 'a line of the import is not an Okta event: sent to the dead-letter topic');
      } else {
        events.push(eventMessage(org, reason, codec));
      }
      if (events.length + deadLetters.length >= BATCH) await flush();
    }
    await flush();
  } finally {
    line.done();
    await producer.disconnect();
  }
  logger.info({ imported, deadLettered, lines: lineNumber, seconds: (Date.now() - started) / 1000 }, 'import finished');
  process.stderr.write(`imported ${formatCount(imported)} events from ${file}${deadLettered > 0 ? `; ${formatCount(deadLettered)} lines went to the dead-letter topic` : ''}\n`);
  return 0;
}

/** The event, or why the line is not one. */
function classify(text: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `not JSON: ${(err as Error).message.replace(/, .* is not valid JSON$/s, '')}`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  return value as Record<string, unknown>;
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch (err) {
    throw new ForwarderError('OF_IMPORT_INPUT', `importing ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}
