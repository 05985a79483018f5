import type { Kafka } from 'kafkajs';
import { readToEnd } from './read-to-end.js';

/**
 * The poll cursor of one org, written in the same Kafka transaction as the events it covers
 * (key = org id, compacted topic). `nextUrl` is Okta's own `next` link, verbatim: the only thing
 * that says where to continue. The rest serves progress, metrics and cursor recovery.
 */
export interface Checkpoint {
  version: 1;
  /** Unique per checkpoint written: tells a commit whose answer was lost from one that did not happen. */
  id?: string;
  org: string;
  /** The `next` link of the last published page. */
  nextUrl: string;
  /** Start of the initial backfill window (ISO), for progress. */
  since: string;
  /** Newest `published` among the events published so far (ISO), for poll lag and recovery. */
  lastPublished: string | undefined;
  /** Events published for this org since the connector was created. */
  events: number;
  /** When this checkpoint was committed (ISO). */
  committedAt: string;
  /** The process that committed it ("<host>/<pid>"): who polled the org then. */
  owner?: string;
}

export function encodeCheckpoint(checkpoint: Checkpoint): Buffer {
  return Buffer.from(JSON.stringify(checkpoint));
}

export function decodeCheckpoint(value: Buffer | null): Checkpoint | undefined {
  if (value === null || value.length === 0) return undefined;
  try {
    const parsed = JSON.parse(value.toString('utf8')) as Partial<Checkpoint>;
    return parsed.version === 1 && typeof parsed.nextUrl === 'string' && typeof parsed.org === 'string' ? (parsed as Checkpoint) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The last committed checkpoint of every org in the topic (read_committed, to the end). Call it
 * after the org's transactional producer has connected: that fences a previous instance and
 * aborts its open transaction, so nothing newer can still commit.
 */
export async function readCheckpoints(kafka: Kafka, topic: string): Promise<Map<string, Checkpoint>> {
  const latest = new Map<string, Checkpoint>();
  await readToEnd(
    kafka,
    topic,
    (message) => {
      const org = message.key?.toString('utf8');
      if (!org) return;
      const checkpoint = decodeCheckpoint(message.value);
      if (checkpoint) latest.set(org, checkpoint);
      else latest.delete(org); // a tombstone resets the org
    },
    { groupPrefix: 'okta-forwarder-checkpoints' },
  );
  return latest;
}
