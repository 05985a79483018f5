import { Client } from '@elastic/elasticsearch';
import type { KafkaMessage } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { loadConfig, type ForwarderConfig } from '../../src/config/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { eventMessage } from '../../src/kafka/messages.js';
import { readToEnd } from '../../src/kafka/read-to-end.js';
import { createTopics } from '../../src/kafka/topics.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { startPollers } from '../../src/poller/run.js';
import { startSimulator } from '../../src/simulator/index.js';
import { startSink } from '../../src/sink/run.js';
import { readCheckpointHistory, readPublishedEvents, writeTestConfig } from '../support/forwarder.js';
import { elasticsearchEndpoint, kafkaEndpoint } from '../support/stack.js';
import { uniqueName, waitFor } from '../support/wait.js';

const DAY = 86_400_000;
const quietLogger = () => createLogger({ level: 'warn', destination: { write: () => undefined } });
const FAST_RETRY = { unreachable: { initialMs: 20, maxMs: 100, multiplier: 2 }, needsOperator: { initialMs: 50, maxMs: 200, multiplier: 2 }, kafka: { initialMs: 50, maxMs: 500, multiplier: 2 } };

async function deadLetters(config: ForwarderConfig): Promise<KafkaMessage[]> {
  const letters: KafkaMessage[] = [];
  await readToEnd(createKafka(config.kafka), config.kafka.topics.deadLetter, (message) => letters.push(message));
  return letters;
}

const header = (message: KafkaMessage, name: string) => message.headers?.[name]?.toString();

describe('records larger than a topic takes (max.message.bytes, 1 MB by default)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  it('the poller dead-letters an event over 1 MB in a bounded form, packs pages of large events, and the backfill goes on', { timeout: 180_000 }, async () => {
    const token = uniqueName('token');
    const sim = await startSimulator({ apiTokens: [token], rateLimitPerMinute: Infinity, seed: 3 });
    cleanups.push(() => sim.close());
    const now = Date.now();
    sim.generate(4_000, { from: now - 3 * DAY, to: now - 2 * DAY });
    // Events made to measure by a second simulator, then served by the first one.
    const maker = await startSimulator({ seed: 4 });
    // One page of events of 4 KB each: 4 MB, more than one produce request may carry to a topic.
    const bulky = maker.generate(1_000, { from: now - 2 * DAY, to: now - DAY }) as Record<string, unknown>[];
    for (const event of bulky) event.debugContext = { debugData: { padding: 'p'.repeat(4_000) } };
    const [giant] = maker.generate(1, { from: now - DAY, to: now - DAY + 1 }) as Record<string, unknown>[];
    giant!.debugContext = { debugData: { requestUri: `/x?${'q'.repeat(1_500_000)}` } };
    await maker.close();
    sim.append([...bulky, giant!]);
    sim.generate(3_000, { from: now - DAY + 2, to: now - 60_000 });
    const { config } = writeTestConfig([{ id: 'acme', domain: sim.domain, token }]);
    const pollers = await startPollers({ config, assignment: 'every-org', kafka: createKafka(config.kafka), logger: quietLogger(), metrics: createMetrics(), overrides: { retry: FAST_RETRY } });
    cleanups.push(() => pollers.stop());
    const handle = pollers.handles.get('acme')!;
    await waitFor(() => handle.stats().progress?.caughtUp, 'the backfill to catch up', 150_000);
    expect(handle.stats().state).toBe('connected');
    await pollers.stop();

    const published = await readPublishedEvents(createKafka(config.kafka), config);
    expect(published).toHaveLength(8_000);
    expect(published.some((event) => event.uuid === giant!.uuid)).toBe(false);
    expect(new Set(published.map((event) => event.uuid)).size).toBe(8_000);
    const letters = await deadLetters(config);
    expect(letters).toHaveLength(1);
    const [letter] = letters;
    expect(letter!.key?.toString()).toBe(giant!.uuid);
    expect(header(letter!, 'stage')).toBe('poll');
    expect(header(letter!, 'error.type')).toBe('record_too_large');
    expect(Number(header(letter!, 'original.size'))).toBeGreaterThan(1_500_000);
    expect(header(letter!, 'original.sha256')).toMatch(/^[0-9a-f]{64}$/);
    expect(header(letter!, 'reason')).toMatch(/max\.message\.bytes/);
    expect(letter!.value!.length).toBeLessThanOrEqual(64 * 1024);
    // The checkpoint moved past the page that held it: nothing waits for it.
    const checkpoints = await readCheckpointHistory(createKafka(config.kafka), config);
    expect(checkpoints.at(-1)!.events).toBe(8_001);
  });

  it('the sink packs dead letters within the limit, bounds one that grew too large, and its lag reaches 0 after transactional records', { timeout: 180_000 }, async () => {
    const es = elasticsearchEndpoint();
    const prefix = uniqueName('it-limits');
    const { config } = loadConfig({
      env: {
        KAFKA_BROKERS: kafkaEndpoint().brokers.join(','),
        KAFKA_TOPIC_EVENTS: uniqueName('it-limits-events'),
        KAFKA_TOPIC_CHECKPOINTS: uniqueName('it-limits-checkpoints'),
        KAFKA_TOPIC_DEAD_LETTER: uniqueName('it-limits-dlq'),
        KAFKA_CONSUMER_GROUP: uniqueName('it-limits-group'),
        KAFKA_TOPIC_POLLERS: uniqueName('it-limits-pollers'),
        KAFKA_POLLER_GROUP: uniqueName('it-limits-pollers'),
        ELASTICSEARCH_URL: es.url,
        ELASTICSEARCH_USERNAME: es.username,
        ELASTICSEARCH_PASSWORD: es.password,
        ELASTICSEARCH_INDEX_PREFIX: prefix,
      },
    });
    const client = new Client({ node: es.url, auth: { username: es.username, password: es.password } });
    cleanups.push(() => client.close());
    cleanups.push(() => client.indices.delete({ index: `${prefix}-*` }));
    const kafka = createKafka(config.kafka);
    await createTopics(kafka, config, quietLogger());
    const sim = await startSimulator({ seed: 8 });
    const events = sim.generate(2_000, { from: Date.now() - DAY, to: Date.now() - 1000 });
    await sim.close();
    const codec = createOktaEventCodec();
    // Transactional, as the poller writes: each transaction ends with a commit marker after its last record.
    const producer = kafka.producer({ transactionalId: uniqueName('it-limits-tx'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const garbage = (bytes: number, fill: number) => ({ key: `garbage-${fill}`, value: Buffer.alloc(bytes, fill), headers: { org: 'acme' } });
    const batches = [
      events.slice(0, 1_000).map((event) => eventMessage('acme', event, codec)),
      // Records that do not decode, 400 KB each: their dead letters together are far over 1 MB.
      [garbage(400_000, 1), garbage(400_000, 2), garbage(400_000, 3), garbage(400_000, 4)],
      // One that fits the events topic, but not once the dead-letter headers are added.
      [garbage(1_048_400, 5)],
      events.slice(1_000).map((event) => eventMessage('acme', event, codec)),
    ];
    for (const messages of batches) {
      const transaction = await producer.transaction();
      await transaction.send({ topic: config.kafka.topics.events, messages });
      await transaction.commit();
    }
    await producer.disconnect();

    const metrics = createMetrics();
    const sink = await startSink({ config, kafka: createKafka(config.kafka), logger: quietLogger(), metrics, retry: { initialMs: 50, maxMs: 500, multiplier: 2 } });
    cleanups.push(() => sink.stop());
    await waitFor(() => sink.stats().indexed === 2_000 && sink.stats().deadLettered === 5, 'every record indexed or dead-lettered', 120_000);
    const letters = await deadLetters(config);
    expect(letters).toHaveLength(5);
    for (const letter of letters) expect(header(letter, 'stage')).toBe('decode');
    const bounded = letters.find((letter) => letter.key?.toString() === 'garbage-5')!;
    expect(header(bounded, 'original.size')).toBe('1048400');
    expect(header(bounded, 'reason')).toMatch(/; and the record takes \d+ bytes, more than .* accepts/);
    expect(letters.filter((letter) => letter.value?.length === 400_000)).toHaveLength(4);

    // Lag 0 means done: the committed offsets reach past the last commit marker of every partition.
    await waitFor(async () => {
      const lag = await metrics.registry.getSingleMetricAsString('okta_forwarder_sink_consumer_lag');
      return /okta_forwarder_sink_consumer_lag\{/.test(lag) && !/okta_forwarder_sink_consumer_lag\{[^}]*\} [1-9]/.test(lag);
    }, 'consumer lag 0', 30_000);
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(config.kafka.topics.events);
    const [committed] = await admin.fetchOffsets({ groupId: config.kafka.consumerGroup, topics: [config.kafka.topics.events] });
    await admin.disconnect();
    for (const end of ends) {
      expect(committed!.partitions.find((p) => p.partition === end.partition)?.offset, `partition ${end.partition}`).toBe(end.high);
    }
  });
});
