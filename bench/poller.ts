/**
 * Poller throughput: the Okta simulator (no rate limit, its own process) -> `okta-forwarder poll`
 * (its own process) -> Kafka, beside a plain KafkaJS produce of the same events, pre-encoded, in
 * the same run. Reports events/s of both, their ratio, and the poller's peak RSS (VmHWM).
 *
 *   npm run stack -- up kafka && npx tsx bench/poller.ts [events=200000]
 *
 * Kafka comes from KAFKA_BROKERS, else from the local stack's endpoints.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOktaEventCodec } from '../src/avro/index.js';
import { loadConfig } from '../src/config/index.js';
import { createKafka } from '../src/kafka/client.js';
import { eventMessage } from '../src/kafka/messages.js';
import { keyHashPartitioner } from '../src/kafka/partitioner.js';
import { stackSettings } from '../src/stack/settings.js';
import { readEndpoints } from '../src/stack/stack.js';
import { startSimulator } from '../src/simulator/index.js';
import { PROJECT_ROOT } from '../src/stack/settings.js';

const EVENTS = Number(process.argv[2] ?? 200_000);
const brokers = process.env.KAFKA_BROKERS?.split(',') ?? readEndpoints(stackSettings()).kafka?.brokers;
if (!brokers) throw new Error('no Kafka: run `npm run stack -- up kafka` or set KAFKA_BROKERS');

const dir = mkdtempSync(join(tmpdir(), 'okta-forwarder-bench-'));
const token = `bench-${randomUUID()}`;
const run = randomUUID().slice(0, 8);

/** The simulator in a child process, so the poller's measurements are its own. */
async function simulatorProcess(): Promise<{ domain: string; stop: () => void }> {
  const script = join(dir, 'simulator.mts');
  writeFileSync(
    script,
    `import { startSimulator } from ${JSON.stringify(join(PROJECT_ROOT, 'src/simulator/index.ts'))};
     const sim = await startSimulator({ apiTokens: [${JSON.stringify(token)}], rateLimitPerMinute: Infinity, seed: 1 });
     sim.generate(${EVENTS}, { from: Date.now() - 30 * 86400000, to: Date.now() - 60000 });
     process.stdout.write(sim.domain + '\\n');`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const domain = await new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
  return { domain, stop: () => child.kill('SIGTERM') };
}

async function plainProduce(): Promise<number> {
  const sim = await startSimulator({ seed: 1 });
  const events = sim.generate(EVENTS, { from: Date.now() - 30 * 86400000, to: Date.now() - 60000 });
  await sim.close();
  const codec = createOktaEventCodec();
  const messages = events.map((event) => eventMessage('bench', event, codec));
  const topic = `bench-plain-${run}`;
  const kafka = createKafka({ ...baseKafka(), clientId: 'bench-plain' });
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

function baseKafka() {
  return loadConfig({
    env: {
      KAFKA_BROKERS: (brokers as string[]).join(','),
      KAFKA_CLIENT_ID: 'bench',
      KAFKA_TOPIC_EVENTS: `bench-events-${run}`,
      KAFKA_TOPIC_CHECKPOINTS: `bench-checkpoints-${run}`,
      KAFKA_TOPIC_DEAD_LETTER: `bench-dlq-${run}`,
      KAFKA_TOPIC_POLLERS: `bench-pollers-${run}`,
      KAFKA_POLLER_GROUP: `bench-pollers-${run}`,
    },
  }).config.kafka;
}

async function poller(domain: string): Promise<{ eventsPerSecond: number; peakRssMb: number }> {
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, token);
  const configFile = join(dir, 'config.json');
  const kafka = baseKafka();
  writeFileSync(
    configFile,
    JSON.stringify({
      log: { level: 'info' },
      okta: { orgs: [{ id: 'bench', domain, allowInsecureHttp: true, auth: { tokenFile }, rateLimitShare: 1, initialLookbackDays: 31 }] },
      kafka: { brokers: kafka.brokers, clientId: `bench-${run}`, topics: kafka.topics, eventsPartitions: 6 },
      metrics: { port: 0 },
    }),
  );
  const child = spawn(process.execPath, [...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), join(PROJECT_ROOT, 'dist/cli/main.js'), 'poll', '--config', configFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const times = await new Promise<{ start: number; end: number }>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const start = /"time":"([^"]+)"[^\n]*poller starting a backfill/.exec(output)?.[1];
      const end = /"time":"([^"]+)"[^\n]*backfill complete/.exec(output)?.[1];
      if (start && end) resolve({ start: Date.parse(start), end: Date.parse(end) });
    });
    child.once('exit', (code) => reject(new Error(`poll exited with ${code}:\n${output.slice(-2000)}`)));
  });
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  child.kill('SIGTERM');
  return { eventsPerSecond: EVENTS / ((times.end - times.start) / 1000), peakRssMb: peakKb / 1024 };
}

const sim = await simulatorProcess();
try {
  const plain = await plainProduce();
  const measured = await poller(sim.domain);
  const rows = [
    ['plain KafkaJS produce (pre-encoded, idempotent, batches of 1000)', `${Math.round(plain).toLocaleString('en-US')} events/s`],
    ['okta-forwarder poll (simulator -> Avro -> one transaction per page)', `${Math.round(measured.eventsPerSecond).toLocaleString('en-US')} events/s`],
    ['poller / plain', (measured.eventsPerSecond / plain).toFixed(2)],
    ['poller peak RSS', `${measured.peakRssMb.toFixed(0)} MB`],
  ];
  process.stdout.write(`${EVENTS.toLocaleString('en-US')} events\n${rows.map(([k, v]) => `${k!.padEnd(70)} ${v}`).join('\n')}\n`);
} finally {
  sim.stop();
}
