import type { Kafka, Producer } from 'kafkajs';
import { ForwarderError } from '../errors.js';
import { TRANSACTIONAL_RETRY } from './client.js';
import { keyHashPartitioner } from './partitioner.js';
import { encodeCheckpoint, type Checkpoint } from './checkpoints.js';
import { deadLetterMessage, encodedEventMessage, type EncodedEvent, type RejectedItem } from './messages.js';

export interface PageToPublish {
  /** The page's events, Avro-encoded. */
  events: EncodedEvent[];
  /** Items of the page that cannot be event records (JSON text and why): dead-lettered in the same transaction. */
  rejected: RejectedItem[];
  /** The cursor after this page; written in the same transaction. */
  checkpoint: Checkpoint;
}

export interface PublishResult {
  published: number;
  deadLettered: number;
}

/**
 * Publishes Okta pages to Kafka, one transaction per page: the page's events (Avro, key = uuid,
 * headers org / eventType / published) and the checkpoint record (key = org). Either all of it
 * becomes visible to read_committed consumers, or none of it.
 *
 * Lifecycle: connect() once (fences any earlier producer with the same transactional id), then
 * publish() for each page, one at a time, then disconnect(). A failed publish aborts its
 * transaction and throws OF_KAFKA_PUBLISH (retriable: publish the same page again) or
 * OF_KAFKA_FENCED (another instance took over this org: stop).
 */
export class PagePublisher {
  private producer: Producer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: { org: string; transactionalId: string; eventsTopic: string; checkpointsTopic: string; deadLetterTopic: string },
  ) {}

  async connect(): Promise<void> {
    const producer = this.kafka.producer({
      transactionalId: this.options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: keyHashPartitioner,
      transactionTimeout: 60_000,
      retry: TRANSACTIONAL_RETRY,
    });
    await producer.connect();
    // Registering the transactional id now (not at the first page) is what fences a zombie and
    // aborts its open transaction before the checkpoint is read.
    const empty = await producer.transaction();
    await empty.abort();
    this.producer = producer;
  }

  async publish(page: PageToPublish): Promise<PublishResult> {
    const producer = this.producer;
    if (!producer) throw new ForwarderError('OF_KAFKA_PUBLISH', `publishing for ${this.options.org}: the publisher is not connected`);
    const { org } = this.options;
    const events = page.events.map((event) => encodedEventMessage(org, event));
    // Nothing is dropped: what cannot be an event record is dead-lettered with the reason.
    const deadLetters = page.rejected.map((item) => deadLetterMessage(org, item.json, { stage: 'poll', reason: item.reason }));
    const topicMessages = [
      { topic: this.options.eventsTopic, messages: events },
      { topic: this.options.checkpointsTopic, messages: [{ key: this.options.org, value: encodeCheckpoint(page.checkpoint) }] },
    ];
    if (deadLetters.length > 0) topicMessages.push({ topic: this.options.deadLetterTopic, messages: deadLetters });
    const transaction = await producer.transaction().catch((err: unknown) => {
      throw this.failure('starting a transaction', err);
    });
    try {
      await transaction.sendBatch({ topicMessages });
      await transaction.commit();
    } catch (err) {
      await transaction.abort().catch(() => undefined);
      throw this.failure(`publishing a page of ${page.events.length} events`, err);
    }
    return { published: events.length, deadLettered: deadLetters.length };
  }

  async disconnect(): Promise<void> {
    await this.producer?.disconnect();
    this.producer = undefined;
  }

  private failure(what: string, err: unknown): ForwarderError {
    const type = (err as { type?: string }).type ?? '';
    if (/FENCED|INVALID_PRODUCER_EPOCH/.test(type) || /fenced/i.test((err as Error).message)) {
      return new ForwarderError('OF_KAFKA_FENCED', `${what} for ${this.options.org}: another poller took over this org (transactional id ${this.options.transactionalId})`, {
        cause: err,
      });
    }
    return new ForwarderError('OF_KAFKA_PUBLISH', `${what} for ${this.options.org}: ${(err as Error).message}`, { retriable: true, cause: err });
  }
}
