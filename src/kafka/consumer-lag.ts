import type { Admin } from 'kafkajs';

/** One partition of a topic as a consumer group stands on it. */
export interface PartitionLag {
  partition: number;
  /** The group's committed offset (the next record it reads); undefined when it never committed there. */
  committed: string | undefined;
  /** The partition's end for read_committed readers (the last stable offset). */
  end: string;
  /** Records between the committed offset (else the partition's start) and the end. */
  lag: number;
}

/**
 * The group's lag on each partition of the topic, from its committed offsets: 0 once every record
 * is processed and committed, growing while no member works. Read by the sink (its lag metric)
 * and by `status`, which runs when no sink does.
 */
export async function consumerGroupLag(admin: Admin, groupId: string, topic: string): Promise<PartitionLag[]> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const offsets = new Map(committed[0]?.partitions.map((p) => [p.partition, p.offset]) ?? []);
  return ends
    .map((end) => {
      const done = offsets.get(end.partition);
      const known = done !== undefined && done !== '-1';
      const start = known ? BigInt(done) : BigInt(end.low);
      return { partition: end.partition, committed: known ? done : undefined, end: end.high, lag: Number(BigInt(end.high) - start) };
    })
    .sort((a, b) => a.partition - b.partition);
}
