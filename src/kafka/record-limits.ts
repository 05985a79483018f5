import { createHash } from 'node:crypto';
import kafkajs, { type Admin, type IHeaders, type Message } from 'kafkajs';

// kafkajs is CommonJS: Node's ESM loader finds only some of its named exports, not this one (tsx does).
const { ConfigResourceTypes } = kafkajs;

/**
 * What a broker takes in one record batch: a topic's `max.message.bytes` (Kafka's default, and the
 * broker's `message.max.bytes`, is 1 MB + 12 bytes). A produce request carries one batch per
 * partition, so the records of a request for one partition must fit in it together; a record that
 * alone does not fit can never be written to that topic.
 */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/** A record batch's own header (v2), and a generous bound on one record's framing (varints, attributes, timestamp delta). */
const BATCH_OVERHEAD_BYTES = 61;
const RECORD_OVERHEAD_BYTES = 32;
const HEADER_OVERHEAD_BYTES = 10;

/** How much of an oversized record the dead-letter topic keeps: enough to see what it was, never enough to be too large itself. */
export const OVERSIZED_BODY_BYTES = 64 * 1024;

/** The `max.message.bytes` of each topic, read from the cluster; the default where it cannot be read. */
export async function readMessageLimits(admin: Admin, topics: string[]): Promise<Map<string, number>> {
  const limits = new Map(topics.map((topic) => [topic, KAFKA_DEFAULT_MAX_MESSAGE_BYTES]));
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] })),
  });
  for (const resource of described.resources) {
    const value = Number(resource.configEntries.find((entry) => entry.configName === 'max.message.bytes')?.configValue);
    if (Number.isInteger(value) && value > 0) limits.set(resource.resourceName, value);
  }
  return limits;
}

/** An upper bound of the bytes one record takes in a batch. */
export function recordBytes(message: Message): number {
  let bytes = RECORD_OVERHEAD_BYTES + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) bytes += HEADER_OVERHEAD_BYTES + Buffer.byteLength(name) + byteLength(item);
  }
  return bytes;
}

/** Whether the record can be written to a topic with this limit at all. */
export function fitsLimit(message: Message, limitBytes: number): boolean {
  return recordBytes(message) + BATCH_OVERHEAD_BYTES <= limitBytes;
}

/**
 * Splits records into consecutive groups that each fit in one batch of `limitBytes`, keeping their
 * order, so that sending the groups one after the other (within one transaction, where that
 * matters) never asks a partition to take more than the limit at once. Groups are counted over
 * all partitions together: the bound is safe whatever partition each record goes to, and a page
 * of ordinary events stays one group. A record that alone exceeds the limit gets a group of its
 * own; callers first replace such records (`fitsLimit`, `oversizedDeadLetter`).
 */
export function packWithinLimit(messages: Message[], limitBytes: number): Message[][] {
  const budget = limitBytes - BATCH_OVERHEAD_BYTES;
  const groups: Message[][] = [];
  let group: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = recordBytes(message);
    if (group.length > 0 && bytes + size > budget) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(message);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * The dead letter of a record too large for its topic: the first OVERSIZED_BODY_BYTES of its value,
 * with headers that give its size, its SHA-256 and the reason, besides the record's own headers.
 * Bounded, so it always fits in the dead-letter topic.
 */
export function oversizedDeadLetter(message: Message, context: { topic: string; limitBytes: number; stage: string }): Message {
  const value = toBuffer(message.value);
  const size = recordBytes(message);
  const headers: IHeaders = {};
  // The record's own headers stay, each bounded: a header may be what made it too large.
  for (const [name, header] of Object.entries(message.headers ?? {})) {
    if (header === undefined) continue;
    const first = Array.isArray(header) ? header[0] : header;
    if (first !== undefined) headers[name] = bounded(first, 1024);
  }
  const tooLarge = `the record takes ${size} bytes, more than ${context.topic} accepts (max.message.bytes ${context.limitBytes}); the value is truncated to its first ${Math.min(value.length, OVERSIZED_BODY_BYTES)} bytes`;
  // A record dead-lettered for another reason first (the sink's) keeps that reason in front.
  const earlier = headers.reason?.toString();
  return {
    key: message.key === null || message.key === undefined ? null : bounded(message.key, 1024),
    value: value.subarray(0, OVERSIZED_BODY_BYTES),
    headers: {
      ...headers,
      stage: headers.stage ?? context.stage,
      reason: earlier ? `${earlier.slice(0, 1000)}; and ${tooLarge}` : tooLarge,
      'error.type': headers['error.type'] ?? 'record_too_large',
      'original.size': String(value.length),
      'original.sha256': createHash('sha256').update(value).digest('hex'),
      truncated: value.length > OVERSIZED_BODY_BYTES ? 'true' : 'false',
    },
  };
}

function byteLength(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

function toBuffer(value: Buffer | string | null | undefined): Buffer {
  if (value === null || value === undefined) return Buffer.alloc(0);
  return typeof value === 'string' ? Buffer.from(value) : value;
}

/** The value as it is when it is short enough, else its first bytes. */
function bounded(value: Buffer | string, bytes: number): Buffer | string {
  return byteLength(value) <= bytes ? value : toBuffer(value).subarray(0, bytes);
}
