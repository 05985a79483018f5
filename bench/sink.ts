/**
 * Sink throughput: a topic preloaded with events -> `okta-forwarder sink` (its own process) ->
 * Elasticsearch, beside a plain `_bulk` of the same documents, already normalized, with the same
 * client settings and batch size, in the same run. Also normalization events/s, and the sink's
 * peak RSS (VmHWM).
 *
 *   npm run stack -- up && npm run build && npx tsx bench/sink.ts [events=200000]
 *
 * BENCH_NODE_FLAGS adds Node options to the sink process (e.g. --cpu-prof).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOktaEventCodec } from '../src/avro/index.js';
import { loadConfig } from '../src/config/index.js';
import { createElasticsearchClient } from '../src/elasticsearch/client.js';
import { installIndexTemplate } from '../src/elasticsearch/template.js';
import { createKafka } from '../src/kafka/client.js';
import { eventMessage } from '../src/kafka/messages.js';
import { keyHashPartitioner } from '../src/kafka/partitioner.js';
import { ensureTopics } from '../src/kafka/topics.js';
import { indexFor, normalizeEvent } from '../src/normalize/index.js';
import { startSimulator } from '../src/simulator/index.js';
import { PROJECT_ROOT, stackSettings } from '../src/stack/settings.js';
import { readEndpoints } from '../src/stack/stack.js';

const EVENTS = Number(process.argv[2] ?? 200_000);
const endpoints = readEndpoints(stackSettings());
if (!endpoints.kafka || !endpoints.elasticsearch) throw new Error('no stack: run `npm run stack -- up` first');
const run = Date.now().toString(36);
const env = {
  KAFKA_BROKERS: endpoints.kafka.brokers.join(','),
  KAFKA_TOPIC_EVENTS: `bench-sink-${run}`,
  KAFKA_TOPIC_CHECKPOINTS: `bench-sink-checkpoints-${run}`,
  KAFKA_TOPIC_DEAD_LETTER: `bench-sink-dlq-${run}`,
  KAFKA_CONSUMER_GROUP: `bench-sink-${run}`,
  ELASTICSEARCH_URL: endpoints.elasticsearch.url,
  ELASTICSEARCH_USERNAME: endpoints.elasticsearch.username,
  ELASTICSEARCH_PASSWORD: endpoints.elasticsearch.password,
  ELASTICSEARCH_INDEX_PREFIX: `bench-sink-${run}`,
  METRICS_PORT: '0',
  LOG_LEVEL: 'info',
};
const { config } = loadConfig({ env });
const es = createElasticsearchClient(config.elasticsearch);

const sim = await startSimulator({ seed: 3 });
const events = sim.generate(EVENTS, { from: Date.now() - 20 * 86_400_000, to: Date.now() - 1000 });
await sim.close();

// Normalization alone.
let started = performance.now();
const documents = events.map((event) => normalizeEvent(event, { org: 'bench' }));
const normalizeRate = EVENTS / ((performance.now() - started) / 1000);

// Plain _bulk of the normalized documents, same template, batches of 1000.
const plainPrefix = `bench-plain-${run}`;
await installIndexTemplate(es, plainPrefix);
started = performance.now();
for (let i = 0; i < documents.length; i += 1000) {
  const operations = documents.slice(i, i + 1000).flatMap((doc) => [{ index: { _index: indexFor(plainPrefix, doc), _id: (doc.metadata as { uid: string }).uid } }, doc]);
  const response = await es.bulk({ operations });
  if (response.errors) throw new Error('the plain bulk had item errors');
}
const plainRate = EVENTS / ((performance.now() - started) / 1000);

// Preload the topic, then let the sink drain it.
const kafka = createKafka(config.kafka);
const admin = kafka.admin();
await admin.connect();
await ensureTopics(admin, config.kafka);
await admin.disconnect();
const producer = kafka.producer({ createPartitioner: keyHashPartitioner });
await producer.connect();
const codec = createOktaEventCodec();
for (let i = 0; i < events.length; i += 1000) await producer.send({ topic: config.kafka.topics.events, messages: events.slice(i, i + 1000).map((e) => eventMessage('bench', e, codec)) });
await producer.disconnect();

const child = spawn(process.execPath, [...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), join(PROJECT_ROOT, 'dist/cli/main.js'), 'sink'], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
let output = '';
child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
while (!output.includes('"msg":"sink started"')) await new Promise((resolve) => setTimeout(resolve, 50));
started = performance.now();
// Done when the group has committed every offset: the sink commits only what Elasticsearch
// acknowledged, the same point at which the plain loop above counts a bulk done. (Polling a count
// instead would force refreshes on the indices while the sink writes, slowing it down.)
const watcher = kafka.admin();
await watcher.connect();
const ends = await watcher.fetchTopicOffsets(config.kafka.topics.events);
for (;;) {
  const [committed] = await watcher.fetchOffsets({ groupId: config.kafka.consumerGroup, topics: [config.kafka.topics.events] });
  const behind = ends.some((end) => BigInt(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1') < BigInt(end.high));
  if (!behind) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const sinkRate = EVENTS / ((performance.now() - started) / 1000);
await watcher.disconnect();
await es.indices.refresh({ index: `${config.elasticsearch.indexPrefix}-*` });
const { count: landed } = await es.count({ index: `${config.elasticsearch.indexPrefix}-*` });
if (landed !== EVENTS) throw new Error(`the sink indexed ${landed} documents, not ${EVENTS}`);
const peakMb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
child.kill('SIGTERM');
await es.indices.delete({ index: [`${plainPrefix}-*`, `${config.elasticsearch.indexPrefix}-*`] });
await es.close();

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
process.stdout.write(
  [
    `${fmt(EVENTS)} events`,
    `normalization                                              ${fmt(normalizeRate)} events/s`,
    `plain _bulk of the normalized documents (batches of 1000)  ${fmt(plainRate)} docs/s`,
    `okta-forwarder sink (Kafka -> Avro -> normalize -> _bulk)  ${fmt(sinkRate)} docs/s`,
    `sink / plain bulk                                          ${(sinkRate / plainRate).toFixed(2)}`,
    `sink peak RSS                                              ${peakMb.toFixed(0)} MB`,
    '',
  ].join('\n'),
);
