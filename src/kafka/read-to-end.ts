import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
// Every read_committed consumer of the forwarder skips all records of aborted transactions (see the module).
import './read-committed.js';

/**
 * Reads a topic with read_committed from the beginning (or from a time) up to its end as of now,
 * then stops. "The end" is reached when every partition's last batch leaves no lag: KafkaJS
 * reports control records and aborted data as filtered batches, so a trailing commit marker
 * still ends the read. Used for the checkpoints at start and for deduplication on recovery.
 */
export async function readToEnd(
  kafka: Kafka,
  topic: string,
  onMessage: (message: KafkaMessage, partition: number) => void,
  options: { fromTimestampMs?: number; groupPrefix?: string } = {},
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: { partition: number; high: string; low: string }[];
  let starts: Map<number, string> | undefined;
  try {
    ends = await admin.fetchTopicOffsets(topic);
    if (options.fromTimestampMs !== undefined) {
      const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, options.fromTimestampMs);
      starts = new Map(byTime.map(({ partition, offset }) => [partition, offset]));
    }
  } finally {
    await admin.disconnect();
  }
  const endOf = new Map(ends.map(({ partition, high }) => [partition, BigInt(high)]));
  const startOf = new Map(
    ends.map(({ partition, high, low }) => {
      const byTime = starts?.get(partition);
      // No record at or after the time: nothing to read there.
      const from = starts ? (byTime === undefined || byTime === '-1' ? high : byTime) : low;
      return [partition, BigInt(from)];
    }),
  );
  const pending = new Set(ends.filter(({ partition }) => (endOf.get(partition) ?? 0n) > (startOf.get(partition) ?? 0n)).map(({ partition }) => partition));
  if (pending.size === 0) return;

  // An ephemeral group that never commits: it only positions the reader.
  const consumer = kafka.consumer({ groupId: `${options.groupPrefix ?? 'okta-forwarder-reader'}-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 250 });
  await consumer.connect();
  try {
    const finished = new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        // Done with a partition once a batch reaches the end seen at start; what others write
        // after that is not waited for.
        if (payload.topic === topic && BigInt(payload.lastOffset) >= (endOf.get(payload.partition) ?? 0n) - 1n) {
          pending.delete(payload.partition);
          if (pending.size === 0) resolve();
        }
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
    });
    await consumer.subscribe({ topic, fromBeginning: true });
    const assigned = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message, partition }) => {
        if (BigInt(message.offset) < (endOf.get(partition) ?? 0n)) onMessage(message, partition);
      },
    });
    if (starts) {
      await assigned;
      for (const partition of pending) consumer.seek({ topic, partition, offset: String(startOf.get(partition)) });
    }
    await finished;
  } finally {
    await consumer.disconnect();
  }
}
