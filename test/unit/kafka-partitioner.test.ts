import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyHashPartitioner, murmur2 } from '../../src/kafka/partitioner.js';

// KafkaJS's own murmur2 (the Java client's algorithm, in Long arithmetic) is the reference.
const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;

function metadata(partitions: number, leaderless: number[] = []): PartitionerArgs['partitionMetadata'] {
  return Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
}

describe('keyHashPartitioner', () => {
  it('hashes like Kafka: murmur2 equals the reference for keys of every length mod 4, unicode and binary', () => {
    const keys = [Buffer.alloc(0), Buffer.from('a'), Buffer.from('ab'), Buffer.from('abc'), Buffer.from('abcd'), Buffer.from('ünïcødé 🔑')];
    for (let i = 0; i < 2000; i++) keys.push(randomBytes(i % 67));
    for (const key of keys) expect(murmur2(key), key.toString('hex')).toBe(kafkajsMurmur2(key));
    // A value from the Java client's own test vectors (Utils.murmur2 of "21": -973932308).
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
  });

  it('puts every keyed record on the partition KafkaJS DefaultPartitioner picks', () => {
    const ours = keyHashPartitioner();
    const reference = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 6, 7, 64]) {
      for (let i = 0; i < 500; i++) {
        const key = i % 2 === 0 ? randomUUID() : Buffer.from(randomUUID());
        const args = { topic: 't', partitionMetadata: metadata(partitions), message: { key, value: null } };
        expect(ours(args)).toBe(reference(args));
      }
    }
  });

  it('keeps an explicit partition, and spreads keyless records over partitions that have a leader', () => {
    const partition = keyHashPartitioner();
    expect(partition({ topic: 't', partitionMetadata: metadata(6), message: { key: 'x', value: null, partition: 4 } })).toBe(4);
    const chosen = new Set<number>();
    for (let i = 0; i < 60; i++) chosen.add(partition({ topic: 't', partitionMetadata: metadata(6, [1, 3]), message: { value: null } }));
    expect([...chosen].sort()).toEqual([0, 2, 4, 5]);
  });
});
