import type { Kafka } from 'kafkajs';
import { ConfluentSchemaCache } from '../avro/confluent-schemas.js';
import { createOktaEventCodec } from '../avro/index.js';
import { createSchemaRegistryClient } from '../avro/schema-registry.js';
import type { ForwarderConfig } from '../config/index.js';
import { createElasticsearchClient } from '../elasticsearch/client.js';
import { installIndexTemplate } from '../elasticsearch/template.js';
import { ensureTopics } from '../kafka/topics.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/registry.js';
import { interruptibleSleep, RETRY_POLICIES, retryDelayMs, type RetryPolicy } from '../retry.js';
import { ActivitySink, type SinkHandle } from './sink.js';
import { SinkTelemetry } from './telemetry.js';

/**
 * Starts the sink from the configuration: topics, the index template (installed idempotently,
 * retried until Elasticsearch answers), then the consumer group member. Consumer lag is also
 * refreshed every 10 s from the group's committed offsets, so it shows 0 when all is indexed and
 * grows while the sink is down.
 */
export async function startSink(options: { config: ForwarderConfig; kafka: Kafka; logger: Logger; metrics: Metrics; keepRaw?: boolean; retry?: RetryPolicy }): Promise<SinkHandle> {
  const { config, kafka, logger, metrics } = options;
  const telemetry = new SinkTelemetry(logger, metrics);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, config.kafka);
  // The sink retries by itself, item by item; the client's own retries would only delay that.
  const elasticsearch = createElasticsearchClient(config.elasticsearch, { maxRetries: 0, requestTimeout: 60_000 });
  for (let attempt = 1; ; attempt += 1) {
    try {
      await installIndexTemplate(elasticsearch, config.elasticsearch.indexPrefix);
      telemetry.templateInstalled(config.elasticsearch.indexPrefix);
      break;
    } catch (err) {
      const waitMs = retryDelayMs(RETRY_POLICIES.unreachable, attempt);
      logger.warn({ err, retryInMs: waitMs }, 'installing the index template failed; retrying');
      await interruptibleSleep(waitMs, new AbortController().signal);
    }
  }
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
  // A consumer that KafkaJS gives up on (it left the group and cannot rejoin by itself) is started
  // again: the sink keeps working until it is stopped.
  let handle = await sink.start();
  let stopping = false;
  const supervised = (async () => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await handle.done;
      } catch (err) {
        if (stopping) return;
        const waitMs = retryDelayMs(RETRY_POLICIES.kafka, attempt);
        logger.error({ err, retryInMs: waitMs }, 'the sink consumer crashed; starting it again');
        await interruptibleSleep(waitMs, new AbortController().signal);
        if (stopping) return;
        handle = await sink.start();
        continue;
      }
      return;
    }
  })();
  telemetry.started({
    groupId: config.kafka.consumerGroup,
    topic: config.kafka.topics.events,
    indexPrefix: config.elasticsearch.indexPrefix,
    ...(registry ? { schemaRegistry: registry.url } : {}),
  });
  const refreshLag = async () => {
    try {
      const [ends, committed] = await Promise.all([
        admin.fetchTopicOffsets(config.kafka.topics.events),
        admin.fetchOffsets({ groupId: config.kafka.consumerGroup, topics: [config.kafka.topics.events] }),
      ]);
      const offsets = new Map(committed[0]?.partitions.map((p) => [p.partition, p.offset]) ?? []);
      for (const end of ends) {
        const done = offsets.get(end.partition);
        const start = done === undefined || done === '-1' ? BigInt(end.low) : BigInt(done);
        telemetry.lag(config.kafka.topics.events, end.partition, Number(BigInt(end.high) - start));
      }
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
    stop: async () => {
      stopping = true;
      clearInterval(timer);
      await handle.stop();
      await admin.disconnect().catch(() => undefined);
      await elasticsearch.close();
      await registry?.close();
      telemetry.stopped();
    },
  };
}
