/**
 * Sink throughput and cost: a topic preloaded with events -> `okta-forwarder sink` (its own
 * process) -> Elasticsearch, beside a plain `_bulk` of the same documents, already normalized,
 * with the same client settings and batch size, in the same run. Reports, as median and range over
 * BENCH_RUNS runs: normalization events/s, docs/s of both and their ratio, CPU-seconds per million
 * events of the sink and of Elasticsearch (during the sink's run and during the plain bulk), and
 * the sink's peak RSS (VmHWM). Writes bench/results/sink.json.
 *
 *   npm run stack -- up && npm run build && npx tsx bench/sink.ts [events=200000]
 *
 * BENCH_NODE_FLAGS adds Node options to the sink process (e.g. --cpu-prof).
 */
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
import { cpuMeter, formatSpread, peakRssMb, printTable, repeat, sleep, stackUnderTest, startForwarder, untilIdle, writeResult } from './support.js';

const EVENTS = Number(process.argv[2] ?? 200_000);
const stack = stackUnderTest();

const sim = await startSimulator({ seed: 3 });
const events = sim.generate(EVENTS, { from: Date.now() - 20 * 86_400_000, to: Date.now() - 1000 });
await sim.close();
const codec = createOktaEventCodec();
const records = events.map((event) => eventMessage('bench', event, codec));

async function measureOnce(run: string) {
  const env = {
    KAFKA_BROKERS: stack.brokers.join(','),
    KAFKA_TOPIC_EVENTS: `bench-sink-${run}`,
    KAFKA_TOPIC_CHECKPOINTS: `bench-sink-checkpoints-${run}`,
    KAFKA_TOPIC_DEAD_LETTER: `bench-sink-dlq-${run}`,
    KAFKA_TOPIC_POLLERS: `bench-sink-pollers-${run}`,
    KAFKA_CONSUMER_GROUP: `bench-sink-${run}`,
    ELASTICSEARCH_URL: stack.elasticsearch.url,
    ELASTICSEARCH_USERNAME: stack.elasticsearch.username,
    ELASTICSEARCH_PASSWORD: stack.elasticsearch.password,
    ELASTICSEARCH_INDEX_PREFIX: `bench-sink-${run}`,
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
  };
  const { config } = loadConfig({ env });
  const es = createElasticsearchClient(config.elasticsearch);
  const plainPrefix = `bench-plain-${run}`;
  try {
    // Normalization alone.
    let started = performance.now();
    const documents = events.map((event) => normalizeEvent(event, { org: 'bench' }));
    const normalizeRate = EVENTS / ((performance.now() - started) / 1000);

    // Plain _bulk of the normalized documents, same template, batches of 1000.
    await installIndexTemplate(es, plainPrefix);
    await untilIdle(stack.pids.elasticsearch);
    let cpu = cpuMeter({ elasticsearch: stack.pids.elasticsearch });
    started = performance.now();
    for (let i = 0; i < documents.length; i += 1000) {
      const operations = documents.slice(i, i + 1000).flatMap((doc) => [{ index: { _index: indexFor(plainPrefix, doc), _id: (doc.metadata as { uid: string }).uid } }, doc]);
      const response = await es.bulk({ operations });
      if (response.errors) throw new Error('the plain bulk had item errors');
    }
    const plainRate = EVENTS / ((performance.now() - started) / 1000);
    const plainCpu = cpu();

    // Preload the topic, then let the sink drain it.
    const kafka = createKafka(config.kafka);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, config.kafka);
    await admin.disconnect();
    const producer = kafka.producer({ createPartitioner: keyHashPartitioner });
    await producer.connect();
    for (let i = 0; i < records.length; i += 1000) await producer.send({ topic: config.kafka.topics.events, messages: records.slice(i, i + 1000) });
    await producer.disconnect();

    // The plain bulk's merges are not the sink's.
    await untilIdle(stack.pids.elasticsearch);
    const sink = startForwarder('sink', { env });
    try {
      await sink.waitForLog(/"msg":"sink started"/);
      cpu = cpuMeter({ sink: sink.pid, elasticsearch: stack.pids.elasticsearch });
      started = performance.now();
      // Done when the group has committed every offset: the sink commits only what Elasticsearch
      // acknowledged, the same point at which the plain loop above counts a bulk done. (Polling a
      // count instead would force refreshes on the indices while the sink writes, slowing it down.)
      const watcher = kafka.admin();
      await watcher.connect();
      const ends = await watcher.fetchTopicOffsets(config.kafka.topics.events);
      for (;;) {
        const [committed] = await watcher.fetchOffsets({ groupId: config.kafka.consumerGroup, topics: [config.kafka.topics.events] });
        const behind = ends.some((end) => BigInt(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1') < BigInt(end.high));
        if (!behind) break;
        await sleep(100);
      }
      const sinkRate = EVENTS / ((performance.now() - started) / 1000);
      const sinkCpu = cpu();
      await watcher.disconnect();
      await es.indices.refresh({ index: `${config.elasticsearch.indexPrefix}-*` });
      const { count: landed } = await es.count({ index: `${config.elasticsearch.indexPrefix}-*` });
      if (landed !== EVENTS) throw new Error(`the sink indexed ${landed} documents, not ${EVENTS}`);
      const perMillion = (seconds: number | undefined) => (seconds === undefined ? Number.NaN : (seconds * 1e6) / EVENTS);
      return {
        normalizeEventsPerSecond: normalizeRate,
        plainDocsPerSecond: plainRate,
        sinkDocsPerSecond: sinkRate,
        sinkToPlain: sinkRate / plainRate,
        sinkCpuSecondsPerMillion: perMillion(sinkCpu.sink),
        elasticsearchCpuSecondsPerMillion: perMillion(sinkCpu.elasticsearch),
        elasticsearchCpuSecondsPerMillionPlain: perMillion(plainCpu.elasticsearch),
        sinkPeakRssMb: peakRssMb(sink.pid),
      };
    } finally {
      await sink.stop();
    }
  } finally {
    await es.indices.delete({ index: [`${plainPrefix}-*`, `bench-sink-${run}-*`] }).catch(() => undefined);
    await es.close();
  }
}

const figures = await repeat('sink', () => measureOnce(Date.now().toString(36)));
writeResult('sink', { events: EVENTS, ...figures });
printTable(`Sink, ${EVENTS.toLocaleString('en-US')} events: median (range)`, [
  ['normalization, events/s', formatSpread(figures.normalizeEventsPerSecond)],
  ['plain _bulk of the normalized documents (batches of 1000), docs/s', formatSpread(figures.plainDocsPerSecond)],
  ['okta-forwarder sink (Kafka -> Avro -> normalize -> _bulk), docs/s', formatSpread(figures.sinkDocsPerSecond)],
  ['sink / plain bulk (target 0.8)', formatSpread(figures.sinkToPlain, 2)],
  ['sink CPU-seconds per million events', formatSpread(figures.sinkCpuSecondsPerMillion)],
  ['Elasticsearch CPU-seconds per million events (sink / plain bulk)', `${formatSpread(figures.elasticsearchCpuSecondsPerMillion)} / ${formatSpread(figures.elasticsearchCpuSecondsPerMillionPlain)}`],
  ['sink peak RSS, MB (target 200)', formatSpread(figures.sinkPeakRssMb)],
]);
