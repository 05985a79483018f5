import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { afterEach, describe, expect, it } from 'vitest';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { loadConfig, type ForwarderConfig } from '../../src/config/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { eventMessage } from '../../src/kafka/messages.js';
import { readToEnd } from '../../src/kafka/read-to-end.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { startSimulator } from '../../src/simulator/index.js';
import { startSink } from '../../src/sink/run.js';
import { stackSettings } from '../../src/stack/settings.js';
import { down, up } from '../../src/stack/stack.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { produceToEventsTopic } from '../support/forwarder.js';
import { elasticsearchEndpoint, kafkaEndpoint } from '../support/stack.js';
import { tempDir } from '../support/temp.js';
import { uniqueName, waitFor } from '../support/wait.js';

/** How long Elasticsearch stays down in the outage test (the 60 s; shorter for a quick local run). */
const OUTAGE_MS = Number(process.env.OKTA_FORWARDER_TEST_OUTAGE_SECONDS ?? 60) * 1000;

function settings() {
  const es = elasticsearchEndpoint();
  const names = {
    events: uniqueName('it-sinkf-events'),
    checkpoints: uniqueName('it-sinkf-checkpoints'),
    deadLetter: uniqueName('it-sinkf-dlq'),
    group: uniqueName('it-sinkf-group'),
    prefix: uniqueName('it-activity'),
  };
  const env = {
    KAFKA_BROKERS: kafkaEndpoint().brokers.join(','),
    KAFKA_TOPIC_EVENTS: names.events,
    KAFKA_TOPIC_CHECKPOINTS: names.checkpoints,
    KAFKA_TOPIC_DEAD_LETTER: names.deadLetter,
    KAFKA_CONSUMER_GROUP: names.group,
    ELASTICSEARCH_URL: es.url,
    ELASTICSEARCH_USERNAME: es.username,
    ELASTICSEARCH_PASSWORD: es.password,
    ELASTICSEARCH_INDEX_PREFIX: names.prefix,
    METRICS_PORT: '0',
    // A killed member's partitions move on after 6 s (the broker's minimum), not 30.
    KAFKA_CONSUMER_SESSION_TIMEOUT_MS: '6000',
  };
  return { config: loadConfig({ env }).config, env };
}

async function produceGenerated(config: ForwarderConfig, count: number): Promise<void> {
  const sim = await startSimulator({ seed: 31 });
  const events = sim.generate(count, { from: Date.now() - 10 * 86_400_000, to: Date.now() - 1000 });
  await sim.close();
  const codec = createOktaEventCodec();
  await produceToEventsTopic(config, events.map((event) => eventMessage('acme', event, codec)));
}

async function indexedCount(client: Client, prefix: string): Promise<number> {
  await client.indices.refresh({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
  return (await client.count({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true })).count;
}

async function deadLetterCount(config: ForwarderConfig): Promise<number> {
  let n = 0;
  await readToEnd(createKafka(config.kafka), config.kafka.topics.deadLetter, () => (n += 1));
  return n;
}

describe('the sink through failures', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function esClient(prefix: string): Client {
    const es = elasticsearchEndpoint();
    const client = new Client({ node: es.url, auth: { username: es.username, password: es.password }, maxRetries: 0 });
    cleanups.push(async () => {
      await client.indices.delete({ index: `${prefix}-*` }).catch(() => undefined);
      await client.close();
    });
    return client;
  }

  it.skipIf(elasticsearchEndpoint().provider !== 'local')(
    'waits out Elasticsearch stopped in the middle of 50,000 events, fetching nothing more meanwhile, then lands all of them once',
    async () => {
      const { config } = settings();
      await produceGenerated(config, 50_000);
      const client = esClient(config.elasticsearch.indexPrefix);
      // The sink's own account of the outage, shown if the test fails.
      const logLines: string[] = [];
      const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } });
      const sink = await startSink({
        config,
        kafka: createKafka(config.kafka, logger),
        logger,
        metrics: createMetrics(),
        retry: { initialMs: 200, maxMs: 2000, multiplier: 2 },
      });
      cleanups.push(() => sink.stop());
      await waitFor(() => sink.stats().indexed >= 5_000, 'the first 5,000 documents', 60_000);

      const stack = stackSettings();
      const report = () => undefined;
      await down(stack, ['elasticsearch'], report);
      const stoppedAt = Date.now();
      const inFlight: number[] = [];
      while (Date.now() - stoppedAt < OUTAGE_MS) {
        const stats = sink.stats();
        inFlight.push(stats.fetched - stats.indexed - stats.deadLettered);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      await up(stack, ['elasticsearch'], report);

      // While Elasticsearch was down, the sink held one batch and fetched nothing more.
      expect(Math.max(...inFlight)).toBeLessThanOrEqual(5_000);
      expect(sink.stats().waitingForElasticsearch || sink.stats().indexed > 5_000).toBe(true);
      await waitFor(
        async () => (await indexedCount(client, config.elasticsearch.indexPrefix).catch(() => 0)) === 50_000,
        'all 50,000 documents',
        180_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nsink stats: ${JSON.stringify(sink.stats())}\nlast log lines:\n${logLines.slice(-15).join('')}`);
      });
      expect(await deadLetterCount(config)).toBe(0);
    },
    400_000,
  );

  it('ends with the exact count after SIGKILL of the sink at 10 random moments', { timeout: 400_000 }, async () => {
    const { config, env } = settings();
    await produceGenerated(config, 30_000);
    const client = esClient(config.elasticsearch.indexPrefix);
    const dir = tempDir();
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ log: { level: 'info' } }));
    let child: ChildProcess | undefined;
    cleanups.push(async () => void child?.kill('SIGKILL'));
    const start = () => {
      let output = '';
      child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'sink', '--config', file], {
        cwd: PROJECT_ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
      return { child: child!, output: () => output, exited };
    };
    const kills: number[] = [];
    for (let kill = 0; kill < 10; kill += 1) {
      const run = start();
      await waitFor(() => /"msg":"sink started"/.test(run.output()), 'the sink to start', 60_000);
      const delay = 100 + Math.floor(Math.random() * 1200);
      kills.push(delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
      run.child.kill('SIGKILL');
      await run.exited;
    }
    const last = start();
    await waitFor(async () => (await indexedCount(client, config.elasticsearch.indexPrefix)) === 30_000, `all 30,000 documents (kills at ${kills.join(', ')} ms)`, 180_000);
    last.child.kill('SIGTERM');
    expect(await last.exited, last.output().slice(-2000)).toBe(0);
    expect(await indexedCount(client, config.elasticsearch.indexPrefix)).toBe(30_000);
    expect(await deadLetterCount(config)).toBe(0);
  });
});
