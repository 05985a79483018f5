import { createRequire } from 'node:module';

/**
 * KafkaJS 2.2.4 lets records of aborted transactions through to read_committed consumers when a
 * fetch holds more than one aborted transaction: its filter (consumer/filterAbortedMessages.js)
 * takes the broker's list of aborted transactions to be in the order of their first offsets and
 * starts ignoring at most one producer per record. The broker lists them in the order they were
 * aborted. Two orgs' transactions aborted in the other order (a process SIGKILLed in two pages,
 * their new owners starting at different moments) made the events of an aborted page readable:
 * the sink indexed them, the checkpoints could resume from a cursor never committed, and the
 * published uuids counted them twice (test/integration/kafka-read-committed.test.ts).
 *
 * Every fetch response goes through the filter Kafka's own consumer applies (Fetcher in the Java
 * client): aborted transactions by first offset, a producer's records ignored from the first
 * offset of its aborted transaction to its abort marker. KafkaJS is then handed those records
 * as control records, which it never hands over, and no aborted transactions for its own filter. Installed once, on the class
 * every KafkaJS consumer fetches through, whatever was loaded first.
 */
interface FetchedRecord {
  offset: string;
  key: Buffer | null;
  isControlRecord?: boolean;
  batchContext?: { producerId?: string; inTransaction?: boolean };
}
interface FetchedPartition {
  abortedTransactions?: { producerId: string; firstOffset: string }[];
  messages: FetchedRecord[];
}
type Fetch = (this: unknown, request: unknown) => Promise<{ responses?: { partitions?: FetchedPartition[] }[] }>;

const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]);
const INSTALLED = Symbol.for('okta-forwarder.kafkajs.read-committed');

/** The records of one partition that belong to an aborted transaction (control records never do). */
export function abortedRecords(partition: FetchedPartition): FetchedRecord[] {
  const aborted = [...(partition.abortedTransactions ?? [])].sort((a, b) => compareOffsets(a.firstOffset, b.firstOffset));
  if (aborted.length === 0) return [];
  const ignoring = new Set<string>();
  let next = 0;
  return partition.messages.filter((record) => {
    while (next < aborted.length && compareOffsets(record.offset, aborted[next]!.firstOffset) >= 0) ignoring.add(aborted[next++]!.producerId);
    const producerId = record.batchContext?.producerId ?? '';
    if (record.isControlRecord) {
      // The abort marker ends that producer's aborted transaction.
      if (record.key && Buffer.from(record.key).equals(ABORT_MARKER_KEY)) ignoring.delete(producerId);
      return false;
    }
    return Boolean(record.batchContext?.inTransaction && ignoring.has(producerId));
  });
}

function compareOffsets(a: string, b: string): number {
  const difference = BigInt(a) - BigInt(b);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}

export function installReadCommittedFilter(): void {
  const require = createRequire(import.meta.url);
  const Broker = require('kafkajs/src/broker/index.js') as { prototype: { fetch: Fetch } & Record<symbol, boolean> };
  if (Broker.prototype[INSTALLED]) return;
  const fetch = Broker.prototype.fetch;
  Broker.prototype.fetch = async function (this: unknown, request: unknown) {
    const response = await fetch.call(this, request);
    for (const topic of response.responses ?? []) {
      for (const partition of topic.partitions ?? []) {
        if (!partition.abortedTransactions?.length) continue;
        // Marked, not removed: KafkaJS drops control records from what it hands over, and still
        // moves the consumer's position past them (a fetch of nothing but aborted records too).
        for (const record of abortedRecords(partition)) record.isControlRecord = true;
        partition.abortedTransactions = [];
      }
    }
    return response;
  };
  Broker.prototype[INSTALLED] = true;
}

installReadCommittedFilter();
