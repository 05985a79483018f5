import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { ForwarderError } from '../errors.js';
import type { OktaEventCodec } from '../avro/index.js';
import { encodeCheckpoint, type Checkpoint } from './checkpoints.js';
import { deadLetterMessage, eventMessage } from './messages.js';

export interface PageToPublish {
  /** The page's events, as Okta sent them. */
  events: unknown[];
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
    private readonly options: { org: string; transactionalId: string; eventsTopic: string; checkpointsTopic: string; deadLetterTopic: string; codec: OktaEventCodec },
  ) {}

  async connect(): Promise<void> {
    const producer = this.kafka.producer({
      transactionalId: this.options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      transactionTimeout: 60_000,
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
    const { events, deadLetters } = this.toMessages(page.events);
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

  /**
   * Events become Avro records. An item Okta sent that is not a JSON object cannot be an event
   * record; it goes to the dead-letter topic, as JSON text with the reason, in the same
   * transaction: nothing is dropped and the rest of the page is published.
   */
  private toMessages(items: unknown[]): { events: Message[]; deadLetters: Message[] } {
    const events: Message[] = [];
    const deadLetters: Message[] = [];
    for (const item of items) {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        deadLetters.push(deadLetterMessage(this.options.org, JSON.stringify(item) ?? 'undefined', { stage: 'poll', reason: 'not a JSON object' }));
      } else {
        events.push(eventMessage(this.options.org, item as Record<string, unknown>, this.options.codec));
      }
    }
    return { events, deadLetters };
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
