import { AssignerProtocol, type Kafka } from 'kafkajs';

/** What a consumer group shows an operator (kafka-consumer-groups --describe), read with the admin API. */

async function withAdmin<T>(kafka: Kafka, use: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** The group's committed offset of each partition of the topic: the next offset it will read (0 when none is committed). */
export function committedOffsets(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, bigint>> {
  return withAdmin(kafka, async (admin) => {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((committed?.partitions ?? []).map(({ partition, offset }) => [partition, offset === '-1' ? 0n : BigInt(offset)]));
  });
}

/** The end of each partition of the topic as read_committed readers see it (the last stable offset). */
export function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  return withAdmin(kafka, async (admin) => new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => [partition, BigInt(high)])));
}

/**
 * The group's lag on each partition of the topic: records between its committed offset and the
 * end. All zeros once every record is processed and committed.
 */
export async function consumerLag(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, number>> {
  const [committed, ends] = await Promise.all([committedOffsets(kafka, groupId, topic), endOffsets(kafka, topic)]);
  return new Map([...ends].map(([partition, end]) => [partition, Number(end - (committed.get(partition) ?? 0n))]));
}

/** Sum of the offsets of all partitions: with records produced outside transactions, the number of records before them. */
export function total(offsets: Map<number, bigint>): number {
  return Number([...offsets.values()].reduce((sum, offset) => sum + offset, 0n));
}

/** The partitions of the topic each member of the group holds now, by the member's client id; empty while it rebalances. */
export function groupAssignment(kafka: Kafka, groupId: string, topic: string): Promise<{ state: string; members: Map<string, number[]> }> {
  return withAdmin(kafka, async (admin) => {
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    const members = new Map<string, number[]>();
    for (const member of group?.members ?? []) {
      const decoded = member.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(member.memberAssignment) : null;
      members.set(member.clientId, [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b));
    }
    return { state: group?.state ?? 'Unknown', members };
  });
}
