import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Partitioners, type Kafka, type Message } from 'kafkajs';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { loadConfig, type ForwarderConfig } from '../../src/config/index.js';
import { decodeCheckpoint, type Checkpoint } from '../../src/kafka/checkpoints.js';
import { createKafka } from '../../src/kafka/client.js';
import { readToEnd } from '../../src/kafka/read-to-end.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { kafkaEndpoint } from './stack.js';
import { tempDir } from './temp.js';
import { uniqueName } from './wait.js';

export interface TestOrg {
  id: string;
  domain: string;
  token: string;
}

/**
 * A configuration file for a test: the given simulated orgs (API tokens in files), the stack's
 * Kafka (or the `kafka` settings given: another broker, its TLS and SASL), and topic names no
 * other test uses. Returns the loaded config and the file's path.
 */
export function writeTestConfig(
  orgs: TestOrg[],
  extra: { metricsPort?: number; org?: Record<string, unknown>; kafka?: Record<string, unknown>; elasticsearch?: Record<string, unknown>; schemaRegistry?: Record<string, unknown> } = {},
) {
  const dir = tempDir('okta-forwarder-it-');
  const tokenFiles: Record<string, string> = {};
  for (const org of orgs) {
    tokenFiles[org.id] = join(dir, `${org.id}.token`);
    writeFileSync(tokenFiles[org.id]!, `${org.token}\n`);
  }
  const topics = { events: uniqueName('it-events'), checkpoints: uniqueName('it-checkpoints'), deadLetter: uniqueName('it-dlq'), pollers: uniqueName('it-pollers') };
  const file = join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      log: { level: 'info' },
      okta: {
        orgs: orgs.map((org) => ({
          id: org.id,
          domain: org.domain,
          allowInsecureHttp: true,
          auth: { method: 'api-token', tokenFile: tokenFiles[org.id] },
          pollIntervalSeconds: 1,
          rateLimitShare: 1,
          ...extra.org,
        })),
      },
      // A poller group of its own: processes of other tests, with other orgs, never share it.
      kafka: { brokers: kafkaEndpoint().brokers, clientId: uniqueName('it-client'), topics, eventsPartitions: 3, pollerGroup: uniqueName('it-pollers'), pollerSessionTimeoutMs: 6000, ...extra.kafka },
      metrics: { host: '127.0.0.1', port: extra.metricsPort ?? 0 },
      ...(extra.elasticsearch ? { elasticsearch: extra.elasticsearch } : {}),
      ...(extra.schemaRegistry ? { schemaRegistry: extra.schemaRegistry } : {}),
    }),
  );
  const { config } = loadConfig({ file, env: {} });
  return { config, file, dir, tokenFiles };
}

export interface PublishedEvent {
  uuid: string | undefined;
  org: string | undefined;
  event: Record<string, unknown>;
}

/** Every event committed to the events topic (read_committed), decoded. */
export async function readPublishedEvents(kafka: Kafka, config: ForwarderConfig): Promise<PublishedEvent[]> {
  const codec = createOktaEventCodec();
  return readUntilStable(async () => {
    const events: PublishedEvent[] = [];
    await readToEnd(kafka, config.kafka.topics.events, (message) => {
      const event = codec.decode(message.value as Buffer);
      events.push({ uuid: message.key?.toString(), org: message.headers?.org?.toString(), event });
    });
    return events;
  });
}

/**
 * A read_committed read to the end, repeated until two reads half a second apart agree (10 s at
 * most). A transaction is committed for its producer once the coordinator has logged it; its
 * records become visible only when the coordinator has written the markers, a moment later, and
 * until then "the end" (the last stable offset) stops before them. A test that reads right after
 * a commit would miss them (CI: the fencing test missed the successor's one event).
 */
async function readUntilStable<T>(read: () => Promise<T[]>): Promise<T[]> {
  const deadline = Date.now() + 10_000;
  let previous = await read();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const current = await read();
    if (current.length === previous.length || Date.now() > deadline) return current;
    previous = current;
  }
}

/** Every checkpoint record committed, in order. */
export async function readCheckpointHistory(kafka: Kafka, config: ForwarderConfig): Promise<Checkpoint[]> {
  return readUntilStable(async () => {
    const checkpoints: Checkpoint[] = [];
    await readToEnd(kafka, config.kafka.topics.checkpoints, (message) => {
      const checkpoint = decodeCheckpoint(message.value);
      if (checkpoint) checkpoints.push(checkpoint);
    });
    return checkpoints;
  });
}

/** Uuids that occur more than once. */
export function duplicates(uuids: (string | undefined)[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const uuid of uuids) {
    if (uuid === undefined) continue;
    if (seen.has(uuid)) twice.add(uuid);
    seen.add(uuid);
  }
  return [...twice];
}

/** Creates the configured topics and writes the records to the events topic, 1,000 per request (not transactional). */
export async function produceToEventsTopic(config: ForwarderConfig, messages: Message[]): Promise<void> {
  const kafka = createKafka(config.kafka);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, config.kafka);
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let i = 0; i < messages.length; i += 1000) await producer.send({ topic: config.kafka.topics.events, messages: messages.slice(i, i + 1000) });
  await producer.disconnect();
}
