import type { Kafka } from 'kafkajs';
import { ForwarderError } from '../errors.js';
import { readCheckpoints, type Checkpoint } from './checkpoints.js';
import type { EncodedEvent } from './messages.js';
import type { PageToPublish, PublishResult } from './publisher.js';

/**
 * Where an org's poller reads its cursor back. There is no separate "set": a checkpoint is set by
 * committing the transaction of the page it follows (PagePublisher.publish), so it is never ahead
 * of or behind its events. `get` is what a poller calls after its producer has fenced any older
 * one: at start, after a failed transaction, when it takes an org over from another process.
 */
export interface CheckpointStore {
  /** The org's last committed checkpoint; undefined before its first page. */
  get(org: string): Promise<Checkpoint | undefined>;
}

/** The checkpoints topic, read committed to its end. */
export class KafkaCheckpointStore implements CheckpointStore {
  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {}

  async get(org: string): Promise<Checkpoint | undefined> {
    return (await readCheckpoints(this.kafka, this.topic)).get(org);
  }
}

/** What a failing transaction does in MemoryCheckpointStore: nothing committed, or committed with the answer lost. */
export type MemoryFault = 'not-committed' | 'answer-lost';

/**
 * Checkpoints and events in memory, for unit tests of the poller's state machine: each `sink`
 * behaves as the Kafka one does. connect() fences every older sink of the org (their next publish
 * throws OF_KAFKA_FENCED), publish() sets the events and the checkpoint together or not at all, and
 * queued faults make a publish fail before its commit or after it (the answer lost).
 */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly checkpoints = new Map<string, Checkpoint>();
  private readonly epochs = new Map<string, number>();
  private readonly faults: MemoryFault[] = [];
  /** Every committed event, in commit order, with the org and the sink that committed it. */
  readonly committed: { org: string; sink: number; event: EncodedEvent }[] = [];
  /** Every committed checkpoint, in order. */
  readonly history: Checkpoint[] = [];
  private sinks = 0;

  async get(org: string): Promise<Checkpoint | undefined> {
    return this.checkpoints.get(org);
  }

  /** Sets a checkpoint as an earlier run would have left it. */
  seed(checkpoint: Checkpoint): void {
    this.checkpoints.set(checkpoint.org, checkpoint);
  }

  /** The next publishes (of any sink) fail this way, in order. */
  failNext(...faults: MemoryFault[]): void {
    this.faults.push(...faults);
  }

  /** A transactional sink of the org, as a poller process has one. */
  sink(org: string): { id: number; connect(): Promise<void>; publish(page: PageToPublish): Promise<PublishResult>; disconnect(): Promise<void> } {
    const id = (this.sinks += 1);
    let epoch: number | undefined;
    const fenced = (what: string) => new ForwarderError('OF_KAFKA_FENCED', `${what} for ${org}: another poller took over this org (sink ${id} fenced)`);
    return {
      id,
      connect: async () => {
        epoch = (this.epochs.get(org) ?? 0) + 1;
        this.epochs.set(org, epoch);
      },
      publish: async (page) => {
        if (epoch === undefined) throw new ForwarderError('OF_KAFKA_PUBLISH', `publishing a page for ${org}: not connected`, { retriable: true });
        if (this.epochs.get(org) !== epoch) throw fenced('publishing a page');
        const fault = this.faults.shift();
        if (fault !== 'not-committed') {
          for (const event of page.events) this.committed.push({ org, sink: id, event });
          if (page.checkpoint) {
            this.checkpoints.set(org, page.checkpoint);
            this.history.push(page.checkpoint);
          }
        }
        // As the Kafka sink: after a failed publish the producer is dropped and must connect again.
        if (fault) {
          epoch = undefined;
          throw new ForwarderError('OF_KAFKA_PUBLISH', `publishing a page of ${page.events.length} events for ${org}: ${fault}`, { retriable: true });
        }
        return { published: page.events.length, deadLettered: page.rejected.length, oversized: 0 };
      },
      disconnect: async () => {
        epoch = undefined;
      },
    };
  }
}
