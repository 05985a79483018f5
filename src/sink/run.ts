import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { ConfluentSchemaCache } from '../avro/confluent-schemas.js';
import { createOktaEventCodec } from '../avro/index.js';
import { createSchemaRegistryClient } from '../avro/schema-registry.js';
import type { ForwarderConfig } from '../config/index.js';
import { createElasticsearchClient, elasticsearchConnectionError } from '../elasticsearch/client.js';
import { installIndexTemplate } from '../elasticsearch/template.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/registry.js';
import { RetryAborted, untilAvailable, type RetryPolicy, type WaitingListener } from '../retry.js';
import { consumerGroupLag, type PartitionLag } from '../kafka/consumer-lag.js';
import { createTopics } from '../kafka/topics.js';
import { ActivitySink, type SinkHandle } from './sink.js';
import { SinkTelemetry } from './telemetry.js';

/**
 * Starts the sink from the configuration: topics, the index template (installed idempotently,
 * retried until Elasticsearch answers), then the consumer group member. Consumer lag is also
 * refreshed every 10 s from the group's committed offsets, so it shows 0 when all is indexed and
 * grows while the sink is down.
 */
export async function startSink(options: {
  config: ForwarderConfig;
  kafka: Kafka;
  logger: Logger;
  metrics: Metrics;
  keepRaw?: boolean;
  retry?: RetryPolicy;
  /** Ends the waits for Kafka and Elasticsearch below (SIGTERM while starting). */
  signal?: AbortSignal;
  /** Hears what the start waits for. */
  onWaiting?: WaitingListener;
}): Promise<SinkHandle & { lag(): { partitions: PartitionLag[]; readAt: string | undefined } }> {
  const { config, kafka, logger, metrics } = options;
  const telemetry = new SinkTelemetry(logger, metrics);
  const waitOptions = { ...(options.signal ? { signal: options.signal } : {}), ...(options.onWaiting ? { onWaiting: options.onWaiting } : {}) };
  await untilAvailable('Kafka', 'creating the Kafka topics', () => createTopics(kafka, config, logger), waitOptions);
  // The sink retries by itself, item by item; the client's own retries would only delay that.
  const newClient = () => createElasticsearchClient(config.elasticsearch, { maxRetries: 0, requestTimeout: 60_000 });
  let client: Client | undefined;
  const elasticsearch = await untilAvailable(
    'Elasticsearch',
    'installing the index template',
    async () => {
      client ??= newClient();
      try {
        await installIndexTemplate(client, config.elasticsearch.indexPrefix);
        return client;
      } catch (err) {
        // The next attempt reads the credentials again: an operator may be fixing them.
        await client.close().catch(() => undefined);
        client = undefined;
        // A refused certificate or password says which setting to fix (/readyz shows it).
        throw elasticsearchConnectionError(err, config.elasticsearch, 'connecting to Elasticsearch') ?? err;
      }
    },
    waitOptions,
  );
  telemetry.templateInstalled(config.elasticsearch.indexPrefix);
  // With a registry, the schema ids of Confluent records are looked up before each chunk is decoded.
  const registry = createSchemaRegistryClient(config);
  const confluentSchemas = registry ? new ConfluentSchemaCache((id) => registry.fetchSchema(id)) : undefined;
  const sink = new ActivitySink({
    kafka,
    elasticsearch,
    codec: createOktaEventCodec(confluentSchemas ? { confluentSchemas: confluentSchemas.resolve } : {}),
    ...(confluentSchemas ? { confluentSchemas } : {}),
    telemetry,
    eventsTopic: config.kafka.topics.events,
    deadLetterTopic: config.kafka.topics.deadLetter,
    groupId: config.kafka.consumerGroup,
    sessionTimeoutMs: config.kafka.consumerSessionTimeoutMs,
    indexPrefix: config.elasticsearch.indexPrefix,
    keepRaw: options.keepRaw ?? false,
    ...(options.retry ? { retry: options.retry } : {}),
  });
  const joinGroup = () => untilAvailable('Kafka', 'joining the sink consumer group', () => sink.start(), waitOptions);
  // A consumer that KafkaJS gives up on (it left the group and cannot rejoin by itself) is started
  // again, as often as it takes: the sink keeps working until it is stopped, and `done` settles
  // only then (or rejects if it cannot be started again at all).
  let handle = await joinGroup();
  const stopping = new AbortController();
  const supervised = (async () => {
    for (;;) {
      try {
        await handle.done;
        return;
      } catch (err) {
        if (stopping.signal.aborted) return;
        telemetry.consumerCrashed(err as Error);
        handle = await untilAvailable('Kafka', 'starting the crashed sink consumer again', () => sink.start(), { signal: stopping.signal, ...(options.onWaiting ? { onWaiting: options.onWaiting } : {}) }).catch((error: unknown) => {
          if (error instanceof RetryAborted) return handle;
          throw error;
        });
        if (stopping.signal.aborted) return;
      }
    }
  })();
  telemetry.started({
    groupId: config.kafka.consumerGroup,
    topic: config.kafka.topics.events,
    indexPrefix: config.elasticsearch.indexPrefix,
    ...(registry ? { schemaRegistry: registry.url } : {}),
  });
  const admin = kafka.admin();
  let adminConnected = false;
  /** The last lag read and when, for /status; empty until the first read succeeds. */
  let lag: PartitionLag[] = [];
  let lagReadAt: string | undefined;
  const refreshLag = async () => {
    try {
      if (!adminConnected) {
        await admin.connect();
        adminConnected = true;
      }
      lag = await consumerGroupLag(admin, config.kafka.consumerGroup, config.kafka.topics.events);
      lagReadAt = new Date().toISOString();
      for (const partition of lag) telemetry.lag(config.kafka.topics.events, partition.partition, partition.lag);
    } catch (err) {
      logger.debug({ err }, 'refreshing consumer lag failed');
    }
  };
  await refreshLag();
  const timer = setInterval(() => void refreshLag(), 10_000);
  timer.unref();
  return {
    done: supervised,
    stats: () => handle.stats(),
    lag: () => ({ partitions: lag, readAt: lagReadAt }),
    stop: async () => {
      stopping.abort();
      clearInterval(timer);
      await handle.stop();
      await admin.disconnect().catch(() => undefined);
      await elasticsearch.close();
      await registry?.close();
      telemetry.stopped();
    },
  };
}
