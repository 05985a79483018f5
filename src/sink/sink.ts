import type { Client } from '@elastic/elasticsearch';
import type { Batch, Consumer, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { ConfluentSchemaCache } from '../avro/confluent-schemas.js';
import type { OktaEventCodec } from '../avro/index.js';
import { writeDocuments, type BulkItem, type WriteOutcome } from '../elasticsearch/writer.js';
import { ForwarderError } from '../errors.js';
import { deadLetterHeaders } from '../kafka/messages.js';
import { fitsLimit, oversizedDeadLetter, packWithinLimit, readMessageLimits } from '../kafka/record-limits.js';
import { keyHashPartitioner } from '../kafka/partitioner.js';
import { prepareActivity } from '../normalize/index.js';
import { RETRY_POLICIES, RetryAborted, retrying, type RetryPolicy } from '../retry.js';
import type { SinkTelemetry } from './telemetry.js';

export interface SinkOptions {
  kafka: Kafka;
  elasticsearch: Client;
  codec: OktaEventCodec;
  /** With a schema registry: the cache the codec resolves Confluent schema ids from (`confluentSchemas: cache.resolve`). */
  confluentSchemas?: ConfluentSchemaCache;
  telemetry: SinkTelemetry;
  eventsTopic: string;
  deadLetterTopic: string;
  groupId: string;
  sessionTimeoutMs: number;
  indexPrefix: string;
  /** Keep the original Okta event in each document (raw_data). */
  keepRaw: boolean;
  /** Bounds of one `_bulk` request. */
  maxRecords?: number;
  maxBytes?: number;
  retry?: RetryPolicy;
  random?: () => number;
}

export interface SinkStats {
  /** Records received from Kafka; minus the settled ones, what the sink holds in memory. */
  fetched: number;
  indexed: number;
  deadLettered: number;
  retried: number;
  /** True while Elasticsearch does not take documents and the sink waits. */
  waitingForElasticsearch: boolean;
  /** While waiting: what Elasticsearch answered ("403 cluster_block_exception: index [x] blocked by …"), for /readyz. */
  elasticsearchWaitReason?: string;
  /** True while the schema registry does not answer for a schema id the batch needs, and the sink waits. */
  waitingForSchemaRegistry: boolean;
  /** Why the sink waits for Kafka (its consumer crashed and is restarting, a commit or a dead letter failed); undefined when it does not. */
  waitingForKafka: string | undefined;
}

/** A running sink: awaitable, with live stats and stop(). */
export interface SinkHandle {
  readonly done: Promise<void>;
  stats(): SinkStats;
  /** Finishes or abandons the batch in flight, commits what is settled, leaves the group. */
  stop(): Promise<void>;
}

/** A record of the batch in flight, from its Kafka offset to its fate. */
interface Pending {
  message: KafkaMessage;
  partition: number;
  org: string;
}

interface DeadLetterEntry {
  pending: Pending;
  stage: string;
  reason: string;
  errorType: string;
}

interface PreparedChunk {
  items: BulkItem<Pending>[];
  deadLetters: DeadLetterEntry[];
}

/**
 * How long the consumer may hear nothing from Kafka before the sink says it waits for Kafka: a
 * healthy member fetches (long polls return within 5 s) and heartbeats every few seconds.
 */
const KAFKA_SILENCE_MS = 15_000;

/** Thrown inside a batch when stop() abandons it: its offsets stay uncommitted, another member redoes it. */
class Abandoned extends Error {}

/**
 * The sink: a consumer group member that reads the poller's records with read_committed, decodes
 * and normalizes them, and indexes them into Elasticsearch with the Okta uuid as `_id`.
 *
 * Per record, one of two ends: indexed, or dead-lettered (does not decode, does not normalize,
 * rejected by Elasticsearch as a document) with the original bytes and headers saying why. A
 * batch's offsets are committed only when every record in it has one of those ends. 429s, 5xx and
 * an unreachable Elasticsearch are retried with capped backoff, forever: nothing is dropped, and
 * while it waits no more is fetched, so memory stays bounded. With a schema registry, a chunk's
 * unknown Confluent schema ids are fetched before it is decoded, and a registry that does not
 * answer is waited for the same way.
 */
export class ActivitySink {
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  /** The dead-letter topic's max.message.bytes, read at start and again after a send it refused. */
  private deadLetterLimit: number | undefined;
  private commits: Promise<void> = Promise.resolve();
  private lastKafkaAnswerMs = Date.now();
  private stopping = false;
  private readonly abort = new AbortController();
  /** The chunks in flight that wait for Elasticsearch, and what it answered them. */
  private readonly elasticsearchWaits = new Map<PreparedChunk, string>();
  private readonly counts: SinkStats = { fetched: 0, indexed: 0, deadLettered: 0, retried: 0, waitingForElasticsearch: false, waitingForSchemaRegistry: false, waitingForKafka: undefined };

  constructor(private readonly options: SinkOptions) {}

  /** Connects and joins the group; called again after a crash, the counts carry on. */
  async start(): Promise<SinkHandle> {
    const { kafka, eventsTopic, groupId } = this.options;
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: keyHashPartitioner });
    await this.producer.connect();
    await this.readDeadLetterLimit();
    const consumer = kafka.consumer({
      groupId,
      readUncommitted: false,
      // Chunks stay in flight two at a time within a fetched batch but drain at its end, so
      // bigger batches keep Elasticsearch busier: 16 MB (a fetch response stays within KafkaJS's
      // 10 MB maxBytes) took the sink from about 4,400 to 5,300–6,000 docs/s (bench/sink.ts).
      maxBytesPerPartition: 16 * 1024 * 1024,
      sessionTimeout: this.options.sessionTimeoutMs,
      heartbeatInterval: Math.max(1000, Math.floor(this.options.sessionTimeoutMs / 10)),
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: eventsTopic, fromBeginning: true });
    // A fetched batch of nothing but a transaction marker or aborted records never reaches
    // eachBatch: KafkaJS only moves its position past it. Commit past it too, or the committed
    // offset stays one short of the end and the lag never reads 0.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize > 0 || payload.topic !== eventsTopic || this.stopping) return;
      this.commit(payload.topic, payload.partition, payload.lastOffset, payload.highWatermark).catch((err: unknown) => this.options.telemetry.commitFailed(err as Error));
    });
    // `done` settles only when stop() was asked for, or rejects when KafkaJS gives up on the
    // consumer. KafkaJS emits STOP before CRASH when it crashes (and restarts it itself when the
    // error is retriable): a STOP nobody asked for is not the end, the CRASH that follows says.
    const crashed = new Promise<never>((_, reject) =>
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        this.counts.waitingForKafka = `the consumer crashed and is starting again: ${payload.error.message}`;
        if (!payload.restart) reject(payload.error);
      }),
    );
    // Every answer from Kafka: joining, fetching (a fetch returns at least every few seconds,
    // even with nothing new), a heartbeat, a commit. While Kafka is down KafkaJS retries for a
    // while before it crashes the consumer, so silence is what says it first.
    this.lastKafkaAnswerMs = Date.now();
    const answered = () => {
      this.lastKafkaAnswerMs = Date.now();
      this.counts.waitingForKafka = undefined;
    };
    for (const event of [consumer.events.GROUP_JOIN, consumer.events.FETCH, consumer.events.HEARTBEAT, consumer.events.COMMIT_OFFSETS]) consumer.on(event, answered);
    crashed.catch(() => undefined);
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) =>
        this.handleBatch(batch, heartbeat, () => isRunning() && !isStale(), resolveOffset),
    });
    let stopped: Promise<void> | undefined;
    const stop = () =>
      (stopped ??= (async () => {
        this.stopping = true;
        this.abort.abort();
        await consumer.disconnect();
        await this.producer?.disconnect();
      })());
    const done = Promise.race([
      crashed,
      new Promise<void>((resolve) =>
        consumer.on(consumer.events.STOP, () => {
          if (this.stopping) resolve();
        }),
      ),
    ]);
    return { done, stats: () => this.stats(), stop };
  }

  private stats(): SinkStats {
    const silentMs = Date.now() - this.lastKafkaAnswerMs;
    const silence = silentMs > KAFKA_SILENCE_MS ? `no answer from Kafka (fetch, heartbeat, commit) for ${Math.round(silentMs / 1000)} s` : undefined;
    return { ...this.counts, waitingForKafka: this.counts.waitingForKafka ?? silence };
  }

  /** One fetched batch of one partition, in chunks bounded by count and bytes; each chunk settled, then committed. */
  private async handleBatch(batch: Batch, heartbeat: () => Promise<void>, running: () => boolean, resolveOffset: (offset: string) => void): Promise<void> {
    // Keep the group membership while a bulk request or its retries take long (an Elasticsearch
    // outage): a member that stops heartbeating loses its partitions.
    const beat = setInterval(() => void heartbeat().catch(() => undefined), Math.max(500, Math.floor(this.options.sessionTimeoutMs / 5)));
    try {
      await this.processBatch(batch, running, resolveOffset);
    } finally {
      clearInterval(beat);
    }
  }

  /**
   * Splits the batch into chunks bounded by count and bytes. The next chunk is decoded,
   * normalized and sent while Elasticsearch works on the current one's `_bulk`, so the sink's CPU
   * work and Elasticsearch's indexing overlap.
   */
  private async processBatch(batch: Batch, running: () => boolean, resolveOffset: (offset: string) => void): Promise<void> {
    const maxRecords = this.options.maxRecords ?? 1000;
    const maxBytes = this.options.maxBytes ?? 5 * 1024 * 1024;
    const chunks: Pending[][] = [];
    let chunk: Pending[] = [];
    let bytes = 0;
    for (const message of batch.messages) {
      chunk.push({ message, partition: batch.partition, org: header(message.headers, 'org') ?? 'unknown' });
      bytes += message.value?.length ?? 0;
      if (chunk.length >= maxRecords || bytes >= maxBytes) {
        chunks.push(chunk);
        chunk = [];
        bytes = 0;
      }
    }
    if (chunk.length > 0) chunks.push(chunk);

    // Up to two chunks in flight: one being indexed while the next is normalized and sent.
    // Offsets are committed strictly in order, each once its chunk and all before it are settled.
    const inFlight: { settled: Promise<void>; last: Pending; chunk: Pending[] }[] = [];
    const lastChunk = chunks.at(-1);
    const commitOldest = async () => {
      const oldest = inFlight.shift() as { settled: Promise<void>; last: Pending; chunk: Pending[] };
      await oldest.settled;
      // After the batch's last chunk, commit past what follows its last record in the batch too
      // (a transaction's commit marker, aborted records): otherwise the committed offset stays
      // behind the marker and the lag never reaches 0.
      const through = oldest.chunk === lastChunk ? maxOffset(oldest.last.message.offset, batch.lastOffset()) : oldest.last.message.offset;
      await this.commit(batch.topic, batch.partition, through, batch.highWatermark);
      // Moves KafkaJS's fetch position past the settled records (committing alone does not).
      resolveOffset(through);
    };
    try {
      for (const current of chunks) {
        if (!running() || this.stopping) break;
        const settled = this.learnSchemas(current, running).then(() => this.settle(this.prepareChunk(current), running));
        settled.catch(() => undefined);
        inFlight.push({ settled, last: current.at(-1) as Pending, chunk: current });
        if (inFlight.length >= 2) await commitOldest();
      }
      while (inFlight.length > 0 && running() && !this.stopping) await commitOldest();
    } finally {
      // What is still in flight when stopping or losing the partition is abandoned, uncommitted.
      await Promise.allSettled(inFlight.map((entry) => entry.settled));
    }
  }

  /**
   * Before a chunk is decoded: the Confluent schema ids it carries that the codec cannot resolve
   * yet are looked up in the registry. While the registry does not answer, the sink waits and
   * retries, like an Elasticsearch outage: nothing is dead-lettered or committed meanwhile. An id
   * the registry has no schema for is then a decode failure of its records (dead-lettered).
   */
  private async learnSchemas(chunk: Pending[], running: () => boolean): Promise<void> {
    const schemas = this.options.confluentSchemas;
    if (!schemas) return;
    let waited = false;
    const batch = batchSignal(this.abort.signal, () => running() && !this.stopping);
    try {
      await schemas.prefetch(
        chunk.map((pending) => pending.message.value),
        {
          signal: batch.signal,
          onRetry: (error, ids, attempt, waitMs) => {
            waited = true;
            this.counts.waitingForSchemaRegistry = true;
            this.options.telemetry.schemaRegistryRetrying(error, ids, attempt, waitMs);
          },
          ...(this.options.retry ? { retry: this.options.retry } : {}),
          ...(this.options.random ? { random: this.options.random } : {}),
        },
      );
      if (waited) this.options.telemetry.schemaRegistryAnswered();
    } catch (err) {
      if (err instanceof RetryAborted) throw new Abandoned('the batch was abandoned: the sink is stopping or lost the partition', { cause: err });
      throw err;
    } finally {
      batch.dispose();
      if (waited) this.counts.waitingForSchemaRegistry = false;
    }
  }

  /** Decodes and normalizes a chunk: documents to index, and what goes to the dead-letter topic. */
  private prepareChunk(chunk: Pending[]): PreparedChunk {
    this.counts.fetched += chunk.length;
    const prepared: PreparedChunk = { items: [], deadLetters: [] };
    for (const pending of chunk) {
      const result = this.prepare(pending);
      if ('document' in result) prepared.items.push(result);
      else prepared.deadLetters.push({ pending, ...result });
    }
    return prepared;
  }

  /**
   * Gives every record of the chunk its end: indexed, or dead-lettered for a fault of its own.
   * What Elasticsearch does not take now (overloaded, unreachable, a write block, refused
   * credentials) is sent again with backoff, for as long as it takes: never dead-lettered for
   * that. While nothing lands, or Elasticsearch refuses documents, the sink says it is waiting and
   * why. Stop or a lost partition ends the wait and abandons the batch, uncommitted.
   */
  private async settle(chunk: PreparedChunk, running: () => boolean): Promise<void> {
    const deadLetters = [...chunk.deadLetters];
    let toSend = chunk.items;
    const batch = batchSignal(this.abort.signal, () => running() && !this.stopping);
    let notTaken: WriteOutcome<Pending> | undefined;
    let fruitlessAttempts = 0;
    try {
      await retrying(
        async () => {
          if (toSend.length === 0) return;
          const started = performance.now();
          const outcome = await writeDocuments(this.options.elasticsearch, toSend, { signal: batch.signal });
          // Cut short by stop or a lost partition: not an answer from Elasticsearch.
          if (batch.signal.aborted) throw new RetryAborted('indexing documents');
          this.options.telemetry.bulk((performance.now() - started) / 1000, outcome);
          this.counts.indexed += outcome.indexed.length;
          for (const failure of outcome.rejected) {
            deadLetters.push({ pending: failure.item.ref, stage: 'index', reason: failure.reason, errorType: failure.type });
          }
          toSend = outcome.retriable.map((failure) => failure.item);
          notTaken = outcome;
          fruitlessAttempts = outcome.indexed.length === 0 ? fruitlessAttempts + 1 : 0;
          const first = outcome.retriable[0];
          if (first) throw new ForwarderError('OF_ELASTICSEARCH', `indexing documents: Elasticsearch did not take ${toSend.length} now (${first.status} ${first.type}: ${first.reason})`, { retriable: true });
        },
        {
          what: 'indexing documents',
          policy: this.options.retry ?? RETRY_POLICIES.elasticsearch,
          signal: batch.signal,
          retriable: (err) => err instanceof ForwarderError && err.code === 'OF_ELASTICSEARCH',
          onRetry: (_err, attempt, waitMs) => {
            const outcome = notTaken as WriteOutcome<Pending>;
            this.counts.retried += outcome.retriable.length;
            this.options.telemetry.retrying(outcome.retriable, attempt, waitMs);
            // Refused or unanswered documents are waited for at once. An overloaded cluster that
            // takes some is slow, not down: the sink says it waits only after a few attempts in a
            // row that landed nothing, so /readyz does not flap under load.
            const held = outcome.retriable.find((failure) => failure.condition !== 'overloaded');
            const awaited = held ?? (fruitlessAttempts >= 3 ? outcome.retriable[0] : undefined);
            this.awaitElasticsearch(chunk, awaited ? `${awaited.status} ${awaited.type}: ${awaited.reason}`.slice(0, 500) : undefined);
          },
          ...(this.options.random ? { random: this.options.random } : {}),
        },
      );
    } catch (err) {
      if (err instanceof RetryAborted) throw new Abandoned('the batch was abandoned: the sink is stopping or lost the partition', { cause: err });
      throw err;
    } finally {
      batch.dispose();
      this.awaitElasticsearch(chunk, undefined);
    }
    if (deadLetters.length > 0) await this.deadLetter(deadLetters, running);
  }

  /** Records which chunks wait for Elasticsearch and why; the stats (for /readyz) and the log follow. */
  private awaitElasticsearch(chunk: PreparedChunk, reason: string | undefined): void {
    const before = this.counts.elasticsearchWaitReason;
    if (reason === undefined) this.elasticsearchWaits.delete(chunk);
    else this.elasticsearchWaits.set(chunk, reason);
    const now = [...this.elasticsearchWaits.values()].at(-1);
    this.counts.waitingForElasticsearch = now !== undefined;
    if (now === undefined) delete this.counts.elasticsearchWaitReason;
    else this.counts.elasticsearchWaitReason = now;
    // One line when the wait starts or its kind changes, not one per retry (retrying() logs those).
    const kind = (text: string | undefined) => text?.slice(0, text.indexOf(':'));
    if (now !== undefined && kind(now) !== kind(before)) this.options.telemetry.waitingForElasticsearch(now);
    if (now === undefined && before !== undefined) this.options.telemetry.elasticsearchTakingDocuments();
  }

  /** Decodes and normalizes one record; what cannot be is dead-lettered with the stage and the reason. */
  private prepare(pending: Pending): BulkItem<Pending> | { stage: string; reason: string; errorType: string } {
    const value = pending.message.value;
    if (!value) return { stage: 'decode', reason: 'the record has no value', errorType: 'empty_record' };
    let event: Record<string, unknown>;
    try {
      event = this.options.codec.decode(value);
    } catch (err) {
      return { stage: 'decode', reason: (err as Error).message, errorType: (err as ForwarderError).code ?? 'decode_error' };
    }
    // The same function as the `normalize` preview: index, `_id` (the one id rule) and document, or why not.
    const prepared = prepareActivity(event, { org: pending.org, keepRaw: this.options.keepRaw, indexPrefix: this.options.indexPrefix });
    if (!prepared.ok) return { stage: prepared.stage, reason: prepared.reason, errorType: prepared.errorType };
    return { index: prepared.index, id: prepared.id, document: prepared.document, ref: pending };
  }

  private async deadLetter(entries: DeadLetterEntry[], running: () => boolean): Promise<void> {
    const messages = entries.map(({ pending, stage, reason, errorType }) => ({
      key: pending.message.key,
      value: pending.message.value,
      headers: {
        ...pending.message.headers,
        ...deadLetterHeaders({
          stage,
          reason,
          'error.type': errorType,
          'source.topic': this.options.eventsTopic,
          'source.partition': String(pending.partition),
          'source.offset': pending.message.offset,
        }),
      },
    }));
    // Each record within the topic's limit (an oversized one in a bounded form), and each send
    // within it too: one refused request must not hold back the others. Bounded and packed anew at
    // each attempt, as the topic's limit may have been lowered since it was read.
    const topic = this.options.deadLetterTopic;
    let limit = this.deadLetterLimit as number;
    let unsent = messages;
    await this.retryWhileRunning(
      'writing dead letters',
      async () => {
        const bounded = unsent.map((message) => (fitsLimit(message, limit) ? message : oversizedDeadLetter(message, { topic, limitBytes: limit, stage: 'sink' })));
        for (const group of packWithinLimit(bounded, limit)) {
          await (this.producer as Producer).send({ topic, messages: group });
          unsent = unsent.slice(group.length);
        }
      },
      running,
      async (err, waitMs) => {
        this.counts.waitingForKafka = `writing dead letters: ${(err as Error).message}`;
        this.options.telemetry.deadLetterFailed(err as Error, waitMs);
        if (/too large/i.test((err as Error).message)) limit = (await this.readDeadLetterLimit().catch(() => limit)) ?? limit;
      },
    );
    this.counts.deadLettered += entries.length;
    this.options.telemetry.deadLettered(entries.map(({ stage, errorType, pending }) => ({ stage, errorType, offset: pending.message.offset, partition: pending.partition })));
  }

  /**
   * Retries a Kafka call of the batch in flight with the one retry loop, until it succeeds or the
   * batch is abandoned (stop(), or the partition moved to another member).
   */
  private async retryWhileRunning<T>(what: string, action: () => Promise<T>, running: () => boolean, onRetry: (err: unknown, waitMs: number) => void | Promise<void>): Promise<T> {
    const batch = batchSignal(this.abort.signal, () => running() && !this.stopping);
    try {
      return await retrying(action, {
        what,
        policy: this.options.retry ?? RETRY_POLICIES.kafka,
        signal: batch.signal,
        retriable: () => true,
        ...(this.options.random ? { random: this.options.random } : {}),
        onRetry: (err, _attempt, waitMs) => void onRetry(err, waitMs),
      });
    } catch (err) {
      if (err instanceof RetryAborted) throw new Abandoned('the batch was abandoned: the sink is stopping or lost the partition', { cause: err });
      throw err;
    } finally {
      batch.dispose();
    }
  }

  private async readDeadLetterLimit(): Promise<number> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      const limits = await readMessageLimits(admin, [this.options.deadLetterTopic]);
      this.deadLetterLimit = limits.get(this.options.deadLetterTopic) as number;
      return this.deadLetterLimit;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }



  /** Commits one at a time, in the order asked: a slow commit can never land after a later one and move the offset back. */
  private commit(topic: string, partition: number, lastOffset: string, highWatermark: string): Promise<void> {
    const next = (BigInt(lastOffset) + 1n).toString();
    const committed = this.commits.then(async () => {
      await this.consumer?.commitOffsets([{ topic, partition, offset: next }]);
      this.options.telemetry.committed(topic, partition, BigInt(highWatermark) - BigInt(next));
    });
    this.commits = committed.catch(() => undefined);
    return committed;
  }
}

function maxOffset(a: string, b: string): string {
  return BigInt(a) >= BigInt(b) ? a : b;
}

/**
 * The signal of a batch's requests and waits: aborted at once by stop(), and within a second when
 * the batch stops being this member's (KafkaJS's isRunning/isStale can only be asked, not heard).
 */
function batchSignal(stop: AbortSignal, running: () => boolean): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  stop.addEventListener('abort', abort, { once: true });
  const poll = setInterval(() => {
    if (!running()) abort();
  }, 1000);
  if (stop.aborted || !running()) abort();
  return {
    signal: controller.signal,
    dispose: () => {
      clearInterval(poll);
      stop.removeEventListener('abort', abort);
    },
  };
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value[0] : value)?.toString();
}
