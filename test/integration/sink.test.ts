import { Client } from '@elastic/elasticsearch';
import { afterEach, describe, expect, it } from 'vitest';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { loadConfig, type ForwarderConfig } from '../../src/config/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { eventMessage } from '../../src/kafka/messages.js';
import { readToEnd } from '../../src/kafka/read-to-end.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { indexFor, normalizeEvent } from '../../src/normalize/index.js';
import { startSimulator } from '../../src/simulator/index.js';
import { startSink } from '../../src/sink/run.js';
import type { SinkHandle } from '../../src/sink/sink.js';
import { produceToEventsTopic } from '../support/forwarder.js';
import { elasticsearchEndpoint, kafkaEndpoint } from '../support/stack.js';
import { uniqueName, waitFor } from '../support/wait.js';

const quietLogger = () => createLogger({ level: 'warn', destination: { write: () => undefined } });

/** A configuration of unique topics, group and index prefix on the stack's Kafka and Elasticsearch. */
function sinkConfig(): ForwarderConfig {
  const es = elasticsearchEndpoint();
  return loadConfig({
    env: {
      KAFKA_BROKERS: kafkaEndpoint().brokers.join(','),
      KAFKA_TOPIC_EVENTS: uniqueName('it-sink-events'),
      KAFKA_TOPIC_CHECKPOINTS: uniqueName('it-sink-checkpoints'),
      KAFKA_TOPIC_DEAD_LETTER: uniqueName('it-sink-dlq'),
      KAFKA_CONSUMER_GROUP: uniqueName('it-sink-group'),
      ELASTICSEARCH_URL: es.url,
      ELASTICSEARCH_USERNAME: es.username,
      ELASTICSEARCH_PASSWORD: es.password,
      ELASTICSEARCH_INDEX_PREFIX: uniqueName('it-activity'),
    },
  }).config;
}

async function generated(count: number) {
  const sim = await startSimulator({ seed: 21 });
  const events = sim.generate(count, { from: Date.now() - 5 * 86_400_000, to: Date.now() - 1000 });
  await sim.close();
  return events;
}

describe('the sink against the real Kafka and Elasticsearch', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function esClient(): Client {
    const es = elasticsearchEndpoint();
    const client = new Client({ node: es.url, auth: { username: es.username, password: es.password } });
    cleanups.push(() => client.close());
    return client;
  }

  async function sink(config: ForwarderConfig, metrics = createMetrics()): Promise<SinkHandle> {
    const handle = await startSink({ config, kafka: createKafka(config.kafka), logger: quietLogger(), metrics, retry: { initialMs: 50, maxMs: 500, multiplier: 2 } });
    cleanups.push(() => handle.stop());
    return handle;
  }

  async function count(client: Client, config: ForwarderConfig): Promise<number> {
    await client.indices.refresh({ index: `${config.elasticsearch.indexPrefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    const result = await client.count({ index: `${config.elasticsearch.indexPrefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    return result.count;
  }

  it('indexes every event once into daily indices by its own time, and a replay of the whole topic leaves the count unchanged', async () => {
    const config = sinkConfig();
    const codec = createOktaEventCodec();
    const events = await generated(3_000);
    await produceToEventsTopic(config, events.map((event) => eventMessage('acme', event, codec)));
    const client = esClient();
    cleanups.push(async () => void (await client.indices.delete({ index: `${config.elasticsearch.indexPrefix}-*` }).catch(() => undefined)));

    const first = await sink(config);
    await waitFor(async () => (await count(client, config)) === 3_000, 'all 3,000 documents', 60_000);
    await waitFor(() => first.stats().indexed === 3_000, 'the sink to account for every record');
    // Each record was read once: settled records are never fetched again.
    expect(first.stats().fetched).toBe(3_000);
    await first.stop();

    // One document per event, with _id = uuid, in the index of its own day.
    const sample = events[1234]!;
    const expectedIndex = indexFor(config.elasticsearch.indexPrefix, normalizeEvent(sample, { org: 'acme' }));
    const found = await client.get({ index: expectedIndex, id: sample.uuid as string });
    expect((found._source as { metadata: { uid: string; tenant_uid: string } }).metadata).toMatchObject({ uid: sample.uuid, tenant_uid: 'acme' });
    const indices = await client.cat.indices({ index: `${config.elasticsearch.indexPrefix}-*`, format: 'json' });
    expect(indices.length).toBeGreaterThan(1);

    // Replay: a new group reads the whole topic again.
    const replay = await sink({ ...config, kafka: { ...config.kafka, consumerGroup: uniqueName('it-sink-replay') } });
    await waitFor(() => replay.stats().indexed === 3_000, 'the replay to index everything again', 60_000);
    expect(await count(client, config)).toBe(3_000);
  });

  it('dead-letters a record that does not decode and a document Elasticsearch rejects, lands the rest, and brings lag back to 0', async () => {
    const config = sinkConfig();
    const kafka = createKafka(config.kafka);
    const codec = createOktaEventCodec();
    const events = await generated(200);
    const rejected = events[50]!;
    const client = esClient();
    cleanups.push(async () => void (await client.indices.delete({ index: `${config.elasticsearch.indexPrefix}-*` }).catch(() => undefined)));
    // An index created by hand, ahead of the template, where `message` is a number: the event of that day whose message is text is refused.
    const rejectedIndex = indexFor(config.elasticsearch.indexPrefix, normalizeEvent(rejected, { org: 'acme' }));
    await client.indices.create({ index: rejectedIndex, mappings: { dynamic: false, properties: { message: { type: 'long' } } } });
    const sameDay = events.filter((event) => indexFor(config.elasticsearch.indexPrefix, normalizeEvent(event, { org: 'acme' })) === rejectedIndex);

    const messages = events.map((event) => eventMessage('acme', event, codec));
    messages.splice(100, 0, { key: 'garbage', value: Buffer.from('not an avro record at all'), headers: { org: 'acme' } });
    await produceToEventsTopic(config, messages);
    const metrics = createMetrics();
    const handle = await sink(config, metrics);
    await waitFor(() => handle.stats().indexed + handle.stats().deadLettered === 201, 'every record settled', 60_000);

    const deadLetters: Record<string, string>[] = [];
    await readToEnd(kafka, config.kafka.topics.deadLetter, (message) =>
      deadLetters.push(Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]))),
    );
    expect(deadLetters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ stage: 'decode', 'error.type': 'OF_AVRO_DECODE', 'source.topic': config.kafka.topics.events }),
        expect.objectContaining({ stage: 'index', 'error.type': expect.stringMatching(/^(document|mapper)_parsing_exception$/), org: 'acme' }),
      ]),
    );
    expect(deadLetters.every((headers) => headers['source.offset'] !== undefined && headers['source.partition'] !== undefined)).toBe(true);
    expect(deadLetters).toHaveLength(1 + sameDay.length);
    expect(await count(client, config)).toBe(200 - sameDay.length);
    await waitFor(async () => {
      const lag = await metrics.registry.getSingleMetricAsString('okta_forwarder_sink_consumer_lag');
      return /okta_forwarder_sink_consumer_lag\{/.test(lag) && !/okta_forwarder_sink_consumer_lag\{[^}]*\} [1-9]/.test(lag);
    }, 'consumer lag back to 0');
  });
});
