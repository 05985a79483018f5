import type { Kafka, Message, Producer } from 'kafkajs';
import { ForwarderError } from '../errors.js';
import { TRANSACTIONAL_RETRY } from './client.js';
import { keyHashPartitioner } from './partitioner.js';
import { encodeCheckpoint, type Checkpoint } from './checkpoints.js';
import { deadLetterMessage, encodedEventMessage, type EncodedEvent, type RejectedItem } from './messages.js';
import { fitsLimit, oversizedDeadLetter, packWithinLimit, readMessageLimits } from './record-limits.js';

export interface PageToPublish {
  /** The page's events, Avro-encoded. */
  events: EncodedEvent[];
  /** Items of the page that cannot be event records (JSON text and why): dead-lettered in the same transaction. */
  rejected: RejectedItem[];
  /** The cursor after this page, written in the same transaction; none for `import`. */
  checkpoint?: Checkpoint;
}

export interface PublishResult {
  published: number;
  /** Records written to the dead-letter topic: the rejected items and the events too large for the events topic. */
  deadLettered: number;
  /** Events too large for the events topic, dead-lettered in a bounded form. */
  oversized: number;
}

/**
 * Publishes Okta pages to Kafka, one transaction per page: the page's events (Avro, key = uuid,
 * headers org / eventType / published), its dead letters and the checkpoint record (key = org).
 * Either all of it becomes visible to read_committed consumers, or none of it.
 *
 * Lifecycle: connect() (fences any earlier producer with the same transactional id and aborts its
 * open transaction), then publish() for each page, one at a time, then disconnect().
 *
 * A failed publish throws OF_KAFKA_FENCED (another instance took over this org: stop) or
 * OF_KAFKA_PUBLISH (retriable). After OF_KAFKA_PUBLISH the outcome is unknown: a commit whose
 * response was lost may have succeeded. The producer is dropped, and the next publish() starts a
 * new one: the new producer epoch aborts whatever was left open and resets the idempotence
 * sequence numbers (a batch re-sent under old numbers would be taken by the broker for a duplicate
 * of the aborted one and silently not written). So the caller must read the checkpoint back after
 * reconnect() before publishing again, and continue from what Kafka holds.
 */
export class PagePublisher {
  private producer: Producer | undefined;
  private limits: Map<string, number> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: {
      org: string;
      transactionalId: string;
      eventsTopic: string;
      checkpointsTopic: string;
      deadLetterTopic: string;
      /** The `stage` header of the dead letters: who publishes (default "poll"). */
      stage?: 'poll' | 'import';
    },
  ) {}

  /** Starts a producer: registering the transactional id fences any other producer of this org and aborts its open transaction. */
  async connect(): Promise<void> {
    await this.drop();
    const producer = this.kafka.producer({
      transactionalId: this.options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: keyHashPartitioner,
      transactionTimeout: 60_000,
      retry: TRANSACTIONAL_RETRY,
    });
    try {
      await producer.connect();
      // KafkaJS registers the transactional id (InitProducerId) at the first transaction: do it
      // now, not at the first page, so the fencing happens before the checkpoint is read.
      const empty = await producer.transaction();
      await empty.abort();
      this.limits ??= await this.readLimits();
    } catch (err) {
      await producer.disconnect().catch(() => undefined);
      throw this.failure('connecting the transactional producer', err);
    }
    this.producer = producer;
  }

  async publish(page: PageToPublish): Promise<PublishResult> {
    if (!this.producer) await this.connect();
    const producer = this.producer as Producer;
    const limits = this.limits as Map<string, number>;
    const { org, eventsTopic, deadLetterTopic, checkpointsTopic, stage = 'poll' } = this.options;
    const eventsLimit = limits.get(eventsTopic) as number;
    const deadLetterLimit = limits.get(deadLetterTopic) as number;
    const events: Message[] = [];
    // Nothing is dropped: what cannot be an event record is dead-lettered with the reason, and an
    // event too large for the events topic in a bounded form (its size, hash and first bytes).
    const deadLetters = page.rejected.map((item) => deadLetterMessage(org, item.json, { ...item.headers, stage, reason: item.reason }));
    let oversized = 0;
    for (const event of page.events) {
      const message = encodedEventMessage(org, event);
      if (fitsLimit(message, eventsLimit)) events.push(message);
      else {
        oversized += 1;
        deadLetters.push(oversizedDeadLetter(message, { topic: eventsTopic, limitBytes: eventsLimit, stage }));
      }
    }
    const boundedDeadLetters = deadLetters.map((message) =>
      fitsLimit(message, deadLetterLimit) ? message : oversizedDeadLetter(message, { topic: deadLetterTopic, limitBytes: deadLetterLimit, stage }),
    );
    // Each send stays within every topic's limit; the checkpoint goes last, with the final group.
    const sends: { topic: string; messages: Message[] }[][] = [
      ...packWithinLimit(events, eventsLimit).map((messages) => [{ topic: eventsTopic, messages }]),
      ...packWithinLimit(boundedDeadLetters, deadLetterLimit).map((messages) => [{ topic: deadLetterTopic, messages }]),
    ];
    if (page.checkpoint) {
      const checkpoint = { topic: checkpointsTopic, messages: [{ key: org, value: encodeCheckpoint(page.checkpoint) }] };
      if (sends.length === 0) sends.push([checkpoint]);
      else sends.at(-1)!.push(checkpoint);
    }
    if (sends.length === 0) return { published: 0, deadLettered: 0, oversized: 0 };

    let transaction;
    try {
      transaction = await producer.transaction();
      for (const topicMessages of sends) await transaction.sendBatch({ topicMessages });
      await transaction.commit();
    } catch (err) {
      // The transaction's fate is not ours to know any more: abort if we still can, and start a
      // new producer before the next page (see the class comment).
      await transaction?.abort().catch(() => undefined);
      await this.drop();
      if (isTooLarge(err)) this.limits = undefined; // a topic's limit may have changed: read it again
      throw this.failure(`publishing a page of ${page.events.length} events`, err);
    }
    return { published: events.length, deadLettered: boundedDeadLetters.length, oversized };
  }

  async disconnect(): Promise<void> {
    await this.drop();
  }

  private async drop(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  private async readLimits(): Promise<Map<string, number>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return await readMessageLimits(admin, [this.options.eventsTopic, this.options.deadLetterTopic]);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private failure(what: string, err: unknown): ForwarderError {
    if (isFenced(err)) {
      return new ForwarderError('OF_KAFKA_FENCED', `${what} for ${this.options.org}: another poller took over this org (transactional id ${this.options.transactionalId})`, {
        cause: err,
      });
    }
    return new ForwarderError('OF_KAFKA_PUBLISH', `${what} for ${this.options.org}: ${(err as Error).message}`, { retriable: true, cause: err });
  }
}

/**
 * Whether Kafka says a newer producer holds this transactional id. KafkaJS wraps the broker's
 * error (INVALID_PRODUCER_EPOCH, PRODUCER_FENCED) in errors of its own that keep it only as the
 * cause, so the whole chain is looked at.
 */
export function isFenced(err: unknown): boolean {
  return errorChain(err).some(
    (error) => /^(INVALID_PRODUCER_EPOCH|PRODUCER_FENCED)$/.test(String(error.type ?? '')) || /fenced|old epoch/i.test(String(error.message ?? '')),
  );
}

function isTooLarge(err: unknown): boolean {
  return errorChain(err).some((error) => /^(MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE)$/.test(String(error.type ?? '')));
}

function errorChain(err: unknown): { type?: unknown; message?: unknown }[] {
  const chain: { type?: unknown; message?: unknown; cause?: unknown }[] = [];
  let current = err as { type?: unknown; message?: unknown; cause?: unknown } | undefined;
  while (current && typeof current === 'object' && chain.length < 10) {
    chain.push(current);
    current = current.cause as typeof current;
  }
  return chain;
}
