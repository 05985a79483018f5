/**
 * Poller throughput and cost: the Okta simulator (no rate limit, its own process) ->
 * `okta-forwarder poll` (its own process) -> Kafka, beside a plain KafkaJS produce of the same
 * events, pre-encoded, in the same run. Reports, as median and range over BENCH_RUNS runs: events/s
 * of both and their ratio, CPU-seconds per million events of the poller and of Kafka, and the
 * poller's peak RSS (VmHWM). Writes bench/results/poller.json.
 *
 *   npm run stack -- up kafka && npm run build && npx tsx bench/poller.ts [events=200000]
 */
import { createOktaEventCodec } from '../src/avro/index.js';
import { loadConfig } from '../src/config/index.js';
import { createKafka } from '../src/kafka/client.js';
import { eventMessage } from '../src/kafka/messages.js';
import { keyHashPartitioner } from '../src/kafka/partitioner.js';
import { startSimulator } from '../src/simulator/index.js';
import { cpuMeter, forwarderConfig, formatSpread, peakRssMb, printTable, repeat, stackUnderTest, startForwarder, startSimulatedOrgs, writeResult } from './support.js';

const EVENTS = Number(process.argv[2] ?? 200_000);
const DAY_MS = 86_400_000;
const stack = stackUnderTest();

async function plainProduce(name: string): Promise<number> {
  // The same events as the simulated org's: same seed, same time range.
  const sim = await startSimulator({ seed: 1 });
  const events = sim.generate(EVENTS, { from: Date.now() - 30 * DAY_MS, to: Date.now() - 60_000 });
  await sim.close();
  const codec = createOktaEventCodec();
  const messages = events.map((event) => eventMessage('bench', event, codec));
  const topic = `${name}-plain`;
  const kafka = createKafka({ ...loadConfig({ env: { KAFKA_BROKERS: stack.brokers.join(',') } }).config.kafka, clientId: 'bench-plain' });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
  await admin.disconnect();
  // The poller's partitioner, so that both sides do the same work per record.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: keyHashPartitioner });
  await producer.connect();
  const started = performance.now();
  for (let i = 0; i < messages.length; i += 1000) await producer.send({ topic, messages: messages.slice(i, i + 1000) });
  const seconds = (performance.now() - started) / 1000;
  await producer.disconnect();
  return EVENTS / seconds;
}

const simulator = await startSimulatedOrgs([{ history: EVENTS, historyDays: 30, seed: 1 }]);
try {
  const figures = await repeat('poller', async () => {
    const name = `bench-poll-${Date.now().toString(36)}`;
    const plain = await plainProduce(name);
    const { config, env } = forwarderConfig(stack, { name, orgs: simulator.orgs, orgSettings: { rateLimitShare: 1, initialLookbackDays: 31 } });
    const poll = startForwarder('poll', { config, env });
    try {
      await poll.waitForLog(/poller starting a backfill/);
      const cpu = cpuMeter({ poller: poll.pid, kafka: stack.pids.kafka });
      const started = performance.now();
      await poll.waitForLog(/backfill complete/);
      const seconds = (performance.now() - started) / 1000;
      const used = cpu();
      return {
        plainEventsPerSecond: plain,
        pollerEventsPerSecond: EVENTS / seconds,
        pollerToPlain: EVENTS / seconds / plain,
        pollerCpuSecondsPerMillion: (used.poller! * 1e6) / EVENTS,
        kafkaCpuSecondsPerMillion: used.kafka === undefined ? Number.NaN : (used.kafka * 1e6) / EVENTS,
        pollerPeakRssMb: peakRssMb(poll.pid),
      };
    } finally {
      await poll.stop();
    }
  });
  writeResult('poller', { events: EVENTS, ...figures });
  printTable(`Poller, ${EVENTS.toLocaleString('en-US')} events: median (range)`, [
    ['plain KafkaJS produce (pre-encoded, idempotent, batches of 1000), events/s', formatSpread(figures.plainEventsPerSecond)],
    ['okta-forwarder poll (simulator -> Avro -> one transaction per page), events/s', formatSpread(figures.pollerEventsPerSecond)],
    ['poller / plain (target 0.6)', formatSpread(figures.pollerToPlain, 2)],
    ['poller CPU-seconds per million events', formatSpread(figures.pollerCpuSecondsPerMillion)],
    ['Kafka CPU-seconds per million events (during the poll)', formatSpread(figures.kafkaCpuSecondsPerMillion)],
    ['poller peak RSS, MB (target 200)', formatSpread(figures.pollerPeakRssMb)],
  ]);
} finally {
  simulator.stop();
}
