import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { loadConfig, type ForwarderConfig } from '../../src/config/index.js';
import { eventMessage } from '../../src/kafka/messages.js';
import { startSimulator } from '../../src/simulator/index.js';
import { produceToEventsTopic } from './forwarder.js';
import { elasticsearchEndpoint, kafkaEndpoint } from './stack.js';
import { tempDir } from './temp.js';
import { uniqueName } from './wait.js';

export interface SinkTestSetup {
  /** The configuration the sink processes load (file plus environment). */
  config: ForwarderConfig;
  /** Their environment: topics, group, index prefix no other test uses, the stack's endpoints. */
  env: Record<string, string>;
  /** Their configuration file (log level, partitions of the events topic). */
  file: string;
}

/**
 * What `okta-forwarder sink` processes of one test share: a configuration file and an
 * environment with names of their own, against the stack's Elasticsearch and the given brokers
 * (the stack's Kafka by default). A killed member's partitions move on after 6 s, the broker's
 * minimum session timeout.
 */
export function sinkTestSetup(options: { eventsPartitions?: number; brokers?: string[] } = {}): SinkTestSetup {
  const es = elasticsearchEndpoint();
  const file = join(tempDir('okta-forwarder-sink-'), 'config.json');
  writeFileSync(file, JSON.stringify({ log: { level: 'info' }, kafka: { eventsPartitions: options.eventsPartitions ?? 3 } }));
  const env = {
    KAFKA_BROKERS: (options.brokers ?? kafkaEndpoint().brokers).join(','),
    KAFKA_TOPIC_EVENTS: uniqueName('it-sink-events'),
    KAFKA_TOPIC_CHECKPOINTS: uniqueName('it-sink-checkpoints'),
    KAFKA_TOPIC_DEAD_LETTER: uniqueName('it-sink-dlq'),
    KAFKA_CONSUMER_GROUP: uniqueName('it-sink-group'),
    KAFKA_CONSUMER_SESSION_TIMEOUT_MS: '6000',
    ELASTICSEARCH_URL: es.url,
    ELASTICSEARCH_USERNAME: es.username,
    ELASTICSEARCH_PASSWORD: es.password,
    ELASTICSEARCH_INDEX_PREFIX: uniqueName('it-activity'),
    METRICS_PORT: '0',
  };
  return { config: loadConfig({ file, env }).config, env, file };
}

/** Writes `count` simulated Okta events (seeded) to the events topic, creating the topics; returns their uuids. */
export async function produceSimulatedEvents(config: ForwarderConfig, count: number, seed: number): Promise<string[]> {
  const sim = await startSimulator({ seed });
  const events = sim.generate(count, { from: Date.now() - 10 * 86_400_000, to: Date.now() - 1000 });
  await sim.close();
  const codec = createOktaEventCodec();
  await produceToEventsTopic(config, events.map((event) => eventMessage('acme', event, codec)));
  return events.map((event) => event.uuid);
}
