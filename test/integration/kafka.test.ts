import type { Consumer, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { kafkaEndpoint } from '../support/stack.js';
import { uniqueName, waitFor } from '../support/wait.js';

/** A consumer on its own group that records every value it reads and counts its fetches. */
async function recordingConsumer(kafka: Kafka, topic: string, readUncommitted: boolean) {
  const consumer = kafka.consumer({ groupId: uniqueName('it-group'), readUncommitted, maxWaitTimeInMs: 100 });
  const values: string[] = [];
  let fetches = 0;
  consumer.on(consumer.events.FETCH, () => {
    fetches += 1;
  });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value?.toString() ?? '') });
  await joined;
  return { consumer, values, fetches: () => fetches };
}

describe('Kafka (real broker)', () => {
  let kafka: Kafka;
  const consumers: Consumer[] = [];

  beforeAll(() => {
    // The product's own config -> client path, pointed at the stack's broker.
    const { config } = loadConfig({ env: { KAFKA_BROKERS: kafkaEndpoint().brokers.join(',') } });
    kafka = createKafka(config.kafka);
  });

  afterAll(async () => {
    await Promise.all(consumers.map((consumer) => consumer.disconnect()));
  });

  async function createTopic(): Promise<string> {
    const topic = uniqueName('it-transactions');
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })).toBe(true);
    } finally {
      await admin.disconnect();
    }
    return topic;
  }

  it('hides a transaction from read_committed consumers until it commits, then shows all of it', async () => {
    const topic = await createTopic();
    const committed = await recordingConsumer(kafka, topic, false);
    const uncommitted = await recordingConsumer(kafka, topic, true);
    consumers.push(committed.consumer, uncommitted.consumer);

    const producer = kafka.producer({ transactionalId: uniqueName('it-tx'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const transaction = await producer.transaction();
    await transaction.send({ topic, messages: ['one', 'two', 'three'].map((value) => ({ key: value, value })) });

    // The records are in the log: a read_uncommitted consumer sees them...
    await waitFor(() => uncommitted.values.length === 3, 'the read_uncommitted consumer to see the open transaction');
    // ...while the read_committed consumer, fetching again and again, sees none of them.
    const fetchesBefore = committed.fetches();
    await waitFor(() => committed.fetches() >= fetchesBefore + 3, 'three more fetches by the read_committed consumer');
    expect(committed.values).toEqual([]);

    await transaction.commit();
    await waitFor(() => committed.values.length === 3, 'the read_committed consumer to see the committed transaction');
    expect(committed.values).toEqual(['one', 'two', 'three']);
    await producer.disconnect();
  });

  it('never shows an aborted transaction to read_committed consumers', async () => {
    const topic = await createTopic();
    const committed = await recordingConsumer(kafka, topic, false);
    consumers.push(committed.consumer);
    const producer = kafka.producer({ transactionalId: uniqueName('it-tx'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();

    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] });
    await aborted.abort();
    const kept = await producer.transaction();
    await kept.send({ topic, messages: [{ value: 'kept' }] });
    await kept.commit();

    await waitFor(() => committed.values.includes('kept'), 'the committed record after the aborted transaction');
    expect(committed.values).toEqual(['kept']);
    await producer.disconnect();
  });
});
