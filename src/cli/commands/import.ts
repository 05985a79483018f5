import { createReadStream, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createOktaEventCodec } from '../../avro/index.js';
import { publishingCodecOptions } from '../../avro/schema-registry.js';
import { loadConfig } from '../../config/index.js';
import { ConfigError, ForwarderError } from '../../errors.js';
import { createKafka } from '../../kafka/client.js';
import { PagePublisher, type PageToPublish } from '../../kafka/publisher.js';
import { createTopics } from '../../kafka/topics.js';
import { untilAvailable, type WaitingListener } from '../../retry.js';
import { createLogger, type Logger } from '../../logging/logger.js';
import type { CommandContext } from '../context.js';
import { EXIT_DEAD_LETTERED } from '../exit-codes.js';
import { ndjsonLines, readEventLine } from '../ndjson-lines.js';
import { bar, formatCount, StatusLine } from '../terminal.js';

/** A transaction holds at most this many lines' records… */
const BATCH_LINES = 1000;
/** …and about this many bytes of them, so that a file of large events does not gather in memory. */
const BATCH_BYTES = 8 * 1024 * 1024;
/** Dead-lettered lines logged one by one; after that only the count (a file in the wrong encoding would flood the log). */
const LOGGED_DEAD_LETTERS = 100;

/** What one line of the file becomes. */

/**
 * `okta-forwarder import FILE --org ID`: publishes Okta events from an NDJSON file (an export,
 * another tool's archive; `-` for stdin) into the events topic, with the same encoding and headers
 * as the poller, through the poller's publisher. Each batch of lines is one transaction. A line
 * that cannot be an event record (not UTF-8, not JSON, not an object, not encodable, too large
 * for the events topic, too long to read) goes to the dead-letter topic with its line number and
 * the reason, and the import goes on: nothing is dropped, and one line never holds back another.
 * Every record carries the headers source.file and source.line.
 *
 * Returns 0 when every non-blank line was imported, EXIT_DEAD_LETTERED when some were
 * dead-lettered; a failure to publish throws (exit 1), saying which lines are committed.
 * Importing the same file twice puts the events in Kafka twice: the sink's uuid-based ids make
 * that harmless.
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
  // Kafka or the registry not answering yet is waited out, saying so, until Ctrl-C.
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const waiting: WaitingListener = (dependency, reason, retryInMs) => {
    if (reason === undefined) return;
    logger.warn({ dependency, retryInMs }, `waiting for ${dependency}: ${reason}`);
    process.stderr.write(`import: waiting for ${dependency}: ${reason}; retrying in ${Math.ceil((retryInMs ?? 0) / 1000)} s (Ctrl-C to stop)\n`);
  };
  const wait = { signal: stop.signal, onWaiting: waiting };
  await untilAvailable('Kafka', 'creating the Kafka topics', () => createTopics(kafka, config, logger), wait);
  const codec = createOktaEventCodec(await untilAvailable('the schema registry', 'registering the event schema', () => publishingCodecOptions(config, logger), wait));
  const { topics } = config.kafka;
  const publisher = new PagePublisher(kafka, {
    org,
    // Its own transactional id: an import fences no poller, and no other import.
    transactionalId: `${config.kafka.clientId}-import-${org}-${randomUUID()}`,
    eventsTopic: topics.events,
    checkpointsTopic: topics.checkpoints,
    deadLetterTopic: topics.deadLetter,
    stage: 'import',
  });
  await untilAvailable('Kafka', 'starting the transactional producer', () => publisher.connect(), wait);
  process.off('SIGINT', interrupt);
  process.off('SIGTERM', interrupt);
  const status = new StatusLine();
  const started = Date.now();
  const counts = { imported: 0, deadLettered: 0, skipped: 0 };
  let bytesRead = 0;
  let lastLine = 0;
  let committedThrough = 0;
  let batch: PageToPublish = { events: [], rejected: [] };
  let batchLines = 0;
  let batchBytes = 0;
  let lastLog = started;

  const committed = () => (committedThrough === 0 ? 'nothing was imported' : `lines 1 to ${committedThrough} are imported: to go on, import the lines after ${committedThrough}`);

  const flush = async () => {
    if (batch.events.length > 0 || batch.rejected.length > 0) {
      let result;
      try {
        result = await publisher.publish(batch);
      } catch (err) {
        throw new ForwarderError(
          'OF_KAFKA_PUBLISH',
          `importing ${file}: publishing lines ${committedThrough + 1} to ${lastLine} failed (${(err as Error).message}); ${committed()}` +
            ' (should the failed commit have gone through all the same, importing those lines again makes duplicates in Kafka, which the sink indexes once)',
          { cause: err },
        );
      }
      counts.imported += result.published;
      counts.deadLettered += result.deadLettered;
      if (result.oversized > 0) logger.warn({ oversized: result.oversized, lines: `${committedThrough + 1}-${lastLine}` }, 'events too large for the events topic: sent to the dead-letter topic in a bounded form (header source.line says which)');
    }
    committedThrough = lastLine;
    batch = { events: [], rejected: [] };
    batchLines = 0;
    batchBytes = 0;
    const elapsed = (Date.now() - started) / 1000;
    const share = size ? bytesRead / size : undefined;
    status.update(
      `${share === undefined ? '' : `${bar(share)} ${(share * 100).toFixed(1)}%  `}${formatCount(counts.imported)} events  ${formatCount(counts.imported / Math.max(elapsed, 0.001))} ev/s` +
        (counts.deadLettered > 0 ? `  ${formatCount(counts.deadLettered)} dead-lettered` : ''),
    );
    if (Date.now() - lastLog >= 5000) {
      lastLog = Date.now();
      logger.info({ ...counts, progress: share === undefined ? null : Number(share.toFixed(4)) }, 'import progress');
    }
  };

  try {
    for await (const line of ndjsonLines(input)) {
      lastLine = line.number;
      bytesRead += ('overLong' in line ? line.overLong.size : line.bytes.length) + 1;
      const outcome = readEventLine(line, codec);
      const headers = { 'source.file': file, 'source.line': String(line.number) };
      if ('blank' in outcome) {
        counts.skipped += 1;
      } else if ('event' in outcome) {
        batch.events.push({ ...outcome.event, headers });
        batchBytes += outcome.event.value.length;
      } else {
        const { rejected } = outcome;
        batch.rejected.push({ ...rejected, headers: { ...rejected.headers, ...headers } });
        batchBytes += rejected.json.length;
        logDeadLetter(logger, counts.deadLettered + batch.rejected.length, line.number, rejected.reason);
      }
      batchLines += 1;
      if (batchLines >= BATCH_LINES || batchBytes >= BATCH_BYTES) await flush();
    }
    await flush();
  } catch (err) {
    if (err instanceof ForwarderError) throw err;
    throw new ForwarderError('OF_IMPORT_INPUT', `importing ${file}: reading after line ${lastLine} failed (${(err as Error).message}); ${committed()}`, { cause: err });
  } finally {
    status.done();
    await publisher.disconnect();
  }
  logger.info({ ...counts, lines: lastLine, seconds: (Date.now() - started) / 1000 }, 'import finished');
  process.stderr.write(`${summary(file, counts)}\n`);
  return counts.deadLettered > 0 ? EXIT_DEAD_LETTERED : 0;
}


/** Only JSON whitespace (space, tab, CR): other blanks (a no-break space, say) are not JSON, and so not skipped. */

function logDeadLetter(logger: Logger, nth: number, line: number, reason: string): void {
  if (nth <= LOGGED_DEAD_LETTERS) logger.warn({ line, reason }, 'a line of the import is not an Okta event: sent to the dead-letter topic');
  if (nth === LOGGED_DEAD_LETTERS) logger.warn(`${LOGGED_DEAD_LETTERS} lines dead-lettered; further ones are counted, not logged`);
}

function summary(file: string, counts: { imported: number; deadLettered: number; skipped: number }): string {
  const parts = [`imported ${plural(counts.imported, 'event')} from ${file}`];
  if (counts.deadLettered > 0) parts.push(`${plural(counts.deadLettered, 'line')} went to the dead-letter topic (their headers source.line and reason say which and why)`);
  if (counts.skipped > 0) parts.push(`${plural(counts.skipped, 'blank line')} skipped`);
  return parts.join('; ');
}

function plural(count: number, noun: string): string {
  return `${formatCount(count)} ${noun}${count === 1 ? '' : 's'}`;
}

function fileSize(file: string): number {
  try {
    const stats = statSync(file);
    if (stats.isDirectory()) throw new ForwarderError('OF_IMPORT_INPUT', `importing ${file}: a directory, not a file`);
    return stats.size;
  } catch (err) {
    if (err instanceof ForwarderError) throw err;
    throw new ForwarderError('OF_IMPORT_INPUT', `importing ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}
