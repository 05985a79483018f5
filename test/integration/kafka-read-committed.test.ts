import { randomUUID } from 'node:crypto';
import type { Producer, Transaction } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { encodeCheckpoint, readCheckpoints, type Checkpoint } from '../../src/kafka/checkpoints.js';
import { createKafka } from '../../src/kafka/client.js';
import { readToEnd } from '../../src/kafka/read-to-end.js';
import { kafkaEndpoint } from '../support/stack.js';
import { testSeed, withSeed } from '../support/seeded.js';
import { uniqueName, waitFor } from '../support/wait.js';

const PRODUCERS = 6;
const ROUNDS = 4;

/**
 * Several producers (the orgs' transactional producers) with transactions open at once, their
 * records interleaved in one partition, some committed and some aborted, the aborts in an order
 * other than the one they began in: what a SIGKILLed process leaves when the new owners of its
 * orgs start at different moments.
 */
async function interleavedTransactions(
  topic: string,
  seed: ReturnType<typeof testSeed>,
  recordOf: (producer: number, round: number, record: number, id: string) => { key: string; value: Buffer } = (_p, _r, _n, id) => ({ key: id, value: Buffer.from('x') }),
  /** The last round's transactions all aborted, the last begun first (a dead process's last pages). */
  lastRoundAborted = false,
) {
  const kafka = createKafka(kafkaConfig());
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  const producers: Producer[] = [];
  for (let i = 0; i < PRODUCERS; i += 1) {
    const producer = kafka.producer({ transactionalId: `${topic}-${i}`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    producers.push(producer);
  }
  const committed: string[] = [];
  const aborted: string[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const open: { producer: number; transaction: Transaction; keys: string[] }[] = [];
    for (let i = 0; i < PRODUCERS; i += 1) open.push({ producer: i, transaction: await producers[i]!.transaction(), keys: [] });
    // Records of the open transactions interleaved in the partition.
    for (let record = 0; record < 5; record += 1) {
      for (const entry of open) {
        const id = `${entry.producer}-${round}-${record}-${randomUUID()}`;
        entry.keys.push(id);
        await entry.transaction.send({ topic, messages: [{ ...recordOf(entry.producer, round, record, id), partition: 0 }] });
      }
    }
    // Ended in a seeded order, each committed or aborted.
    const lastAborted = lastRoundAborted && round === ROUNDS - 1;
    for (const entry of lastAborted ? [...open].reverse() : shuffled(open, seed)) {
      if (lastAborted || seed.random.chance(0.5)) {
        await entry.transaction.abort();
        aborted.push(...entry.keys);
      } else {
        await entry.transaction.commit();
        committed.push(...entry.keys);
      }
    }
  }
  await Promise.all(producers.map((producer) => producer.disconnect()));
  return { committed, aborted };
}

function shuffled<T>(items: T[], seed: ReturnType<typeof testSeed>): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = seed.random.int(0, i);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

function kafkaConfig() {
  return { brokers: kafkaEndpoint().brokers, clientId: uniqueName('it-rc'), tls: { enabled: false }, sasl: { mechanism: 'none' } } as never;
}

describe('read_committed readers of the forwarder', () => {
  it('never see a record of an aborted transaction, whatever order the transactions ended in', { timeout: 120_000 }, async () => {
    const seed = testSeed(4242);
    await withSeed(seed, async () => {
      const topic = uniqueName('it-read-committed');
      const { committed, aborted } = await interleavedTransactions(topic, seed);
      expect(aborted.length).toBeGreaterThan(0);
      const kafka = createKafka(kafkaConfig());

      // What the checkpoints, the recovery and the tests read.
      const read: string[] = [];
      await readToEnd(kafka, topic, (message) => read.push(message.key!.toString()));
      expect(read.filter((key) => aborted.includes(key)), 'aborted records read').toEqual([]);
      expect(read).toEqual(expect.arrayContaining(committed));
      expect(read).toHaveLength(committed.length);

      // What the sink reads: a consumer group member, fetches ending in the middle of transactions.
      const consumer = kafka.consumer({ groupId: uniqueName('it-rc-group'), maxBytesPerPartition: 200 });
      const consumed: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void consumed.push(message.key!.toString()) });
      try {
        await waitFor(() => consumed.length >= committed.length, () => `the consumer to read every committed record (${consumed.length} of ${committed.length})`, 60_000);
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        await consumer.disconnect();
      }
      expect(consumed.filter((key) => aborted.includes(key)), 'aborted records consumed').toEqual([]);
      expect(consumed).toHaveLength(committed.length);
    });
  });

  it('resume from the last committed checkpoint, not from one of an aborted transaction', { timeout: 120_000 }, async () => {
    const seed = testSeed(4243);
    await withSeed(seed, async () => {
      const topic = uniqueName('it-rc-checkpoints');
      const checkpoint = (producer: number, round: number, record: number, id: string): Checkpoint => ({
        version: 1,
        id,
        org: `org-${producer}`,
        nextUrl: `https://org-${producer}.example/api/v1/logs?after=${round}-${record}`,
        since: '2026-01-01T00:00:00.000Z',
        lastPublished: undefined,
        events: round * 5 + record,
        committedAt: new Date().toISOString(),
      });
      const { committed } = await interleavedTransactions(topic, seed, (producer, round, record, id) => ({
        key: `org-${producer}`,
        value: encodeCheckpoint(checkpoint(producer, round, record, id)),
      }), true);
      const latest = await readCheckpoints(createKafka(kafkaConfig()), topic);
      // Each org's checkpoint is the last one it committed (ids start with producer-round-record).
      for (let producer = 0; producer < PRODUCERS; producer += 1) {
        const last = committed.filter((id) => id.startsWith(`${producer}-`)).at(-1);
        expect(latest.get(`org-${producer}`)?.id, `org-${producer}`).toBe(last);
      }
    });
  });
});
