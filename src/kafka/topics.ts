import type { Admin, ITopicConfig, Kafka } from 'kafkajs';
import type { Logger } from '../logging/logger.js';
import type { ForwarderConfig } from '../config/index.js';
import { ForwarderError } from '../errors.js';
import { kafkaConnectionError } from './client.js';
import { pollersTopicSpec } from './poller-group.js';

/**
 * The forwarder's topics, created when missing. Events: partitions and retention from the
 * configuration. Checkpoints: one partition, compacted, so the latest cursor of every org is kept
 * forever and reading them all at start is quick. Dead letters: as many partitions as events,
 * kept four times longer, so there is time to look at them. Pollers: the org slots (poller-group.ts).
 */
export function topicSpecs(kafka: ForwarderConfig['kafka']): ITopicConfig[] {
  const retentionMs = kafka.eventsRetentionHours * 3_600_000;
  return [
    {
      topic: kafka.topics.events,
      numPartitions: kafka.eventsPartitions,
      replicationFactor: kafka.replicationFactor,
      configEntries: [{ name: 'retention.ms', value: String(retentionMs) }],
    },
    {
      topic: kafka.topics.checkpoints,
      numPartitions: 1,
      replicationFactor: kafka.replicationFactor,
      configEntries: [
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'min.compaction.lag.ms', value: '3600000' },
        { name: 'segment.ms', value: '86400000' },
      ],
    },
    {
      topic: kafka.topics.deadLetter,
      numPartitions: kafka.eventsPartitions,
      replicationFactor: kafka.replicationFactor,
      configEntries: [{ name: 'retention.ms', value: String(retentionMs * 4) }],
    },
    pollersTopicSpec(kafka),
  ];
}

/** Creates the topics that do not exist yet; returns their names. Existing topics are left as they are. */
export async function ensureTopics(admin: Admin, kafka: ForwarderConfig['kafka']): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topicSpecs(kafka).filter((spec) => !existing.has(spec.topic));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({ topics: missing, waitForLeaders: true });
  } catch (err) {
    // Another process may have created one in between: that is success.
    const after = new Set(await admin.listTopics());
    const stillMissing = missing.filter((spec) => !after.has(spec.topic)).map((spec) => spec.topic);
    if (stillMissing.length > 0) {
      throw new ForwarderError('OF_KAFKA_TOPIC', `creating Kafka topics ${stillMissing.join(', ')}: ${(err as Error).message}`, { retriable: true, cause: err });
    }
  }
  return missing.map((spec) => spec.topic);
}

/** Creates the topics that do not exist yet (another process may be creating them too). */
export async function createTopics(kafka: Kafka, config: ForwarderConfig, logger: Logger): Promise<void> {
  const admin = kafka.admin();
  await admin.connect().catch((err: unknown) => {
    throw kafkaConnectionError(err, config.kafka);
  });
  try {
    const created = await ensureTopics(admin, config.kafka);
    if (created.length > 0) logger.info({ topics: created }, 'created Kafka topics');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
