import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@elastic/elasticsearch';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { loadConfig, type ForwarderConfig } from '../../src/config/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { eventMessage } from '../../src/kafka/messages.js';
import { readToEnd } from '../../src/kafka/read-to-end.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { startSimulator } from '../../src/simulator/index.js';
import { startSink } from '../../src/sink/run.js';
import { setElasticsearchFileUser } from '../../src/stack/local.js';
import { stackSettings } from '../../src/stack/settings.js';
import type { SinkStats } from '../../src/sink/sink.js';
import type { ElasticsearchEndpoint } from '../../src/stack/endpoints.js';
import { spawnCli } from '../support/cli.js';
import { documentCount, documentIds, settledIndexOperations, testIndexClient } from '../support/elasticsearch.js';
import { duplicates, produceToEventsTopic } from '../support/forwarder.js';
import { committedOffsets, consumerLag, total } from '../support/kafka-group.js';
import { freePort, tcpForwarder } from '../support/net.js';
import { startPrivateElasticsearch, type PrivateElasticsearch } from '../support/private-elasticsearch.js';
import { readyz } from '../support/scrape.js';
import { testSeed, withSeed } from '../support/seeded.js';
import { produceSimulatedEvents } from '../support/sink.js';
import { elasticsearchEndpoint, kafkaEndpoint } from '../support/stack.js';
import { tempDir } from '../support/temp.js';
import { uniqueName, waitFor } from '../support/wait.js';

/** How long Elasticsearch stays down in the outage test (the issue's 60 s; shorter for a quick local run). */
const OUTAGE_MS = Number(process.env.OKTA_FORWARDER_TEST_OUTAGE_SECONDS ?? 60) * 1000;

function settings(es: ElasticsearchEndpoint = elasticsearchEndpoint()) {
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

async function produceGenerated(config: ForwarderConfig, count: number, options: { seed?: number; from?: number; to?: number } = {}): Promise<void> {
  const sim = await startSimulator({ seed: options.seed ?? 31 });
  const events = sim.generate(count, { from: options.from ?? Date.now() - 10 * 86_400_000, to: options.to ?? Date.now() - 1000 });
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

const KILLS = 10;
/**
 * Kills that must find records fetched and not committed. The sink keeps two chunks of 1,000 in
 * flight and commits each once indexed, so it holds uncommitted records whenever it works; a kill
 * misses only when it falls between two fetched batches.
 */
const MIN_KILLS_IN_FLIGHT = 8;

/** What one SIGKILL of the sink interrupted: its own account just before, the group's offsets and the index just after. */
interface SinkKillRecord {
  delayMs: number;
  /** Records the group had committed (the sum of its offsets) when this run started, and after the kill. */
  committedBefore: number;
  committedAfter: number;
  /** Records this run had fetched and indexed, at the last scrape of /readyz before the kill. */
  fetchedAtScrape: number;
  indexedAtScrape: number;
  documents: number;
  /** The run had fetched records it had not committed: work in flight at the kill. */
  inFlight: boolean;
  /** Documents in the index whose records are not committed: the next run gets them again. */
  indexedNotCommitted: number;
  /** Records this run indexed again under an _id the index held already: re-delivered after the previous kill. */
  indexedAgain: number;
}


describe('the sink through failures', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function esClient(prefix: string, es: ElasticsearchEndpoint = elasticsearchEndpoint()): Client {
    const client = new Client({ node: es.url, auth: { username: es.username, password: es.password }, maxRetries: 0 });
    cleanups.push(async () => {
      await client.indices.delete({ index: `${prefix}-*` }).catch(() => undefined);
      await client.close();
    });
    return client;
  }

  it('waits, saying why, while its index is write-blocked: dead-letters nothing, stops when asked, and lands everything once the block is lifted', { timeout: 300_000 }, async () => {
    const { config } = settings();
    const prefix = config.elasticsearch.indexPrefix;
    const client = esClient(prefix);
    // One hour of yesterday: every event goes to the same daily index.
    const day = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) - 86_400_000;
    const window = { from: day + 3_600_000, to: day + 7_200_000 };
    await produceGenerated(config, 1_000, { seed: 41, ...window });
    const logLines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } });
    const start = async () => {
      const sink = await startSink({ config, kafka: createKafka(config.kafka, logger), logger, metrics: createMetrics(), retry: { initialMs: 200, maxMs: 1000, multiplier: 2 } });
      cleanups.push(() => sink.stop());
      return sink;
    };
    const first = await start();
    await waitFor(async () => (await indexedCount(client, prefix)) === 1_000, 'the first 1,000 documents', 60_000);

    await client.indices.putSettings({ index: `${prefix}-*`, settings: { 'index.blocks.write': true } });
    await produceGenerated(config, 2_000, { seed: 42, ...window });
    await waitFor(() => first.stats().waitingForElasticsearch, 'the sink to say it waits for Elasticsearch', 60_000);
    expect(first.stats().elasticsearchWaitReason).toMatch(/^403 cluster_block_exception: index \[.+\] blocked by: \[FORBIDDEN\/8\/index write \(api\)\]/);
    expect(logLines.some((line) => line.includes('"awaiting":"elasticsearch"') && line.includes('cluster_block_exception'))).toBe(true);
    // It keeps trying, and nothing of the blocked documents is dead-lettered or lost meanwhile.
    const retried = first.stats().retried;
    await waitFor(() => first.stats().retried >= retried + 3_000, 'more attempts while the block holds', 60_000);
    // Counted in the index, not by the sink's counter of index operations: a rebalance under load
    // may hand the sink records of the first batch again, indexed again under their ids.
    expect(await indexedCount(client, prefix)).toBe(1_000);
    expect(first.stats()).toMatchObject({ deadLettered: 0, waitingForElasticsearch: true });
    // Stop ends the wait: the batch is abandoned uncommitted, for the next member.
    await first.stop();

    const second = await start();
    await waitFor(() => second.stats().waitingForElasticsearch, 'the next sink to wait as well', 60_000);
    await client.indices.putSettings({ index: `${prefix}-*`, settings: { 'index.blocks.write': false } });
    await waitFor(async () => (await indexedCount(client, prefix)) === 3_000, 'all 3,000 documents once the block is lifted', 60_000);
    await waitFor(() => !second.stats().waitingForElasticsearch, 'the sink to stop waiting');
    expect(second.stats().elasticsearchWaitReason).toBeUndefined();
    expect(await deadLetterCount(config)).toBe(0);
  });

  it('ends with the exact count after SIGKILL of the sink at 10 seeded moments, each with records in flight that come again after the restart', { timeout: 400_000 }, async () => {
    const seed = testSeed(31);
    await withSeed(seed, async () => {
      const { config, env } = settings();
      const uuids = await produceSimulatedEvents(config, 30_000, seed.random.uint32());
      const prefix = config.elasticsearch.indexPrefix;
      const client = testIndexClient(prefix);
      const file = join(tempDir(), 'config.json');
      writeFileSync(file, JSON.stringify({ log: { level: 'info' } }));
      const metricsPort = await freePort();
      const kafka = createKafka(config.kafka);
      const { consumerGroup, topics } = config.kafka;
      const committed = async () => total(await committedOffsets(kafka, consumerGroup, topics.events));
      const sinkStats = async () => (await readyz(metricsPort)).body.sink as SinkStats | undefined;

      const kills: SinkKillRecord[] = [];
      const table = () => kills.map((k, i) => `kill ${i + 1}: ${JSON.stringify(k)}`).join('\n');
      let before = { committed: 0, documents: 0, operations: 0 };
      /** Records the run indexed that the index held already: re-delivered, indexed again under the same _id. */
      const indexedAgain = (documents: number, operations: number) => operations - before.operations - (documents - before.documents);
      for (let kill = 0; kill < KILLS; kill += 1) {
        const sink = spawnCli(['sink', '--config', file], { ...env, METRICS_PORT: String(metricsPort) });
        // Killed while it works: after it has fetched its first records, at a seeded moment.
        await waitFor(async () => ((await sinkStats())?.fetched ?? 0) > 0, () => `run ${kill + 1} to fetch records\n${sink.output().slice(-2000)}`, 60_000);
        const delayMs = seed.random.int(0, 2500);
        await sleep(delayMs);
        const atScrape = (await sinkStats()) as SinkStats;
        sink.child.kill('SIGKILL');
        expect(await sink.exited, `run ${kill + 1} ended by itself before the kill:\n${sink.output().slice(-2000)}`).toBeNull();

        // A dead member commits nothing more; Elasticsearch finishes the _bulk it was sent.
        const after = { committed: await committed(), operations: await settledIndexOperations(client, prefix), documents: await documentCount(client, prefix) };
        kills.push({
          delayMs,
          committedBefore: before.committed,
          committedAfter: after.committed,
          fetchedAtScrape: atScrape.fetched,
          indexedAtScrape: atScrape.indexed,
          documents: after.documents,
          // The scrape came before the kill and the offsets are read after it: both err on the side of "committed".
          inFlight: after.committed - before.committed < atScrape.fetched,
          indexedNotCommitted: after.documents - after.committed,
          indexedAgain: indexedAgain(after.documents, after.operations),
        });
        before = after;
      }
      console.info(`sink kills:\n${table()}`);

      const last = spawnCli(['sink', '--config', file], { ...env, METRICS_PORT: String(metricsPort) });
      // Up before the SIGTERM below: the kills may have left nothing to do, and a signal during
      // Node's start (before any handler) would end it by the signal's default action.
      await waitFor(async () => (await sinkStats()) !== undefined, () => `the last run to serve /readyz\n${last.output().slice(-2000)}`, 60_000);
      await waitFor(async () => (await documentCount(client, prefix)) === 30_000, () => `all 30,000 documents\n${table()}`, 180_000);
      await waitFor(async () => [...(await consumerLag(kafka, consumerGroup, topics.events)).values()].every((records) => records === 0), 'the group to commit the end of the topic', 60_000);
      last.child.kill('SIGTERM');
      expect(await last.exited, last.output().slice(-2000)).toBe(0);
      const operations = await settledIndexOperations(client, prefix);
      const lastIndexedAgain = indexedAgain(30_000, operations);
      console.info(`the last run indexed ${lastIndexedAgain} records again`);

      // Most kills left records fetched and not committed…
      expect(kills.filter((k) => k.inFlight).length, `kills with records in flight\n${table()}`).toBeGreaterThanOrEqual(MIN_KILLS_IN_FLIGHT);
      // …and those the index held already came again after the restart: a later run indexed each
      // once more under its _id (an uncommitted record is read again until a run commits it).
      expect(kills.some((k) => k.indexedNotCommitted > 0), `kills with indexed records not committed\n${table()}`).toBe(true);
      const indexedAgainAfter = (kill: number) => kills.slice(kill + 1).reduce((sum, k) => sum + k.indexedAgain, lastIndexedAgain);
      for (const [i, k] of kills.entries()) {
        expect(indexedAgainAfter(i), `records indexed again after kill ${i + 1}, at least the ${k.indexedNotCommitted} indexed and not committed at the kill\n${table()}`).toBeGreaterThanOrEqual(k.indexedNotCommitted);
      }
      // …and the count is exact: each uuid once, nothing dead-lettered, the group at the end of the topic.
      const ids = await documentIds(client, prefix);
      expect(duplicates(ids)).toEqual([]);
      expect(ids.sort()).toEqual(uuids.sort());
      expect(await deadLetterCount(config)).toBe(0);
    });
  });
});

/** Starting a node of its own needs the local stack's prerequisites (a JDK, Maven); with containers there are none. */
describe.skipIf(elasticsearchEndpoint().provider !== 'local')('the sink through failures of an Elasticsearch of its own', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A node for the tests of the enclosing describe, started before them (its start can take minutes on a busy machine). */
  function ownNode(settings: Record<string, string | number> = {}): () => PrivateElasticsearch {
    let node: PrivateElasticsearch | undefined;
    beforeAll(async () => {
      node = await startPrivateElasticsearch({ settings });
    });
    afterAll(async () => {
      await node?.remove();
    });
    return () => node as PrivateElasticsearch;
  }

  async function startCapturedSink(config: ForwarderConfig) {
    // The sink's own account, shown if a test fails.
    const logLines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } });
    const sink = await startSink({ config, kafka: createKafka(config.kafka, logger), logger, metrics: createMetrics(), retry: { initialMs: 200, maxMs: 2000, multiplier: 2 } });
    cleanups.push(() => sink.stop());
    const explain = (err: Error) => {
      throw new Error(`${err.message}\nsink stats: ${JSON.stringify(sink.stats())}\nlast log lines:\n${logLines.slice(-15).join('')}`);
    };
    return { sink, logLines, explain };
  }

  function nodeClient(node: Pick<PrivateElasticsearch, 'endpoint'>, prefix: string): Client {
    const client = new Client({ node: node.endpoint.url, auth: { username: node.endpoint.username, password: node.endpoint.password }, maxRetries: 0 });
    cleanups.push(async () => {
      await client.indices.delete({ index: `${prefix}-*` }).catch(() => undefined);
      await client.close();
    });
    return client;
  }

  describe('with a write queue of one', () => {
    // A write thread pool of one thread and one queued task: a bulk that spans several daily
    // indices already overflows it, so items come back 429 es_rejected_execution_exception.
    const tinyQueueNode = ownNode({ 'thread_pool.write.size': 1, 'thread_pool.write.queue_size': 1 });

    it('lands every document through per-item 429s (es_rejected_execution_exception) and dead-letters none', { timeout: 400_000 }, async () => {
      const node = tinyQueueNode();
      const { config } = settings(node.endpoint);
      await produceGenerated(config, 10_000);
      const client = nodeClient(node, config.elasticsearch.indexPrefix);
      const noisePrefix = `${config.elasticsearch.indexPrefix}-noise`;
      const { sink, logLines, explain } = await startCapturedSink(config);
      // Other writers on the same node at the same time, as in production: they fill the write queue.
      let noisy = true;
      const noise = (async () => {
        for (let round = 0; noisy; round += 1) {
          const operations = Array.from({ length: 50 }, (_, i) => [{ index: { _index: `${noisePrefix}-${i % 5}`, _id: `${round}-${i}` } }, { round, i }]).flat();
          await Promise.all(Array.from({ length: 4 }, () => client.bulk({ operations }).catch(() => undefined)));
        }
      })();
      try {
        await waitFor(async () => (await indexedCount(client, config.elasticsearch.indexPrefix).catch(() => 0)) === 10_000, 'all 10,000 documents', 300_000).catch(explain);
      } finally {
        noisy = false;
        await noise;
      }
      // The node did answer 429 for items, and the sink sent them again rather than dead-letter them.
      const rejectedExecution = logLines.filter((line) => line.includes('"errorType":"es_rejected_execution_exception"') && line.includes('"status":429'));
      expect(rejectedExecution.length, 'no item came back 429: the test proved nothing').toBeGreaterThan(0);
      expect(sink.stats().retried).toBeGreaterThan(0);
      expect(sink.stats().deadLettered).toBe(0);
      expect(await deadLetterCount(config)).toBe(0);
      expect(sink.stats().indexed).toBeGreaterThanOrEqual(10_000);
    });
  });

  describe('the stack\'s Elasticsearch, its connection cut or a password changed', () => {
    it('waits while Elasticsearch refuses its password (401), and uses the fixed password file at the next attempt', { timeout: 300_000 }, async () => {
      const shared = stackSettings();
      const user = uniqueName('forwarder');
      const passwords = [`first-canary-password-${uniqueName('p')}`, `second-canary-password-${uniqueName('p')}`] as const;
      setElasticsearchFileUser(shared, { name: user, password: passwords[0], role: 'superuser' });
      const passwordFile = join(tempDir(), 'elasticsearch-password');
      writeFileSync(passwordFile, `${passwords[0]}\n`);
      const { env } = settings();
      const { config } = loadConfig({ env: { ...env, ELASTICSEARCH_USERNAME: user, ELASTICSEARCH_PASSWORD: '', ELASTICSEARCH_PASSWORD_FILE: passwordFile } });
      const client = nodeClient({ endpoint: elasticsearchEndpoint() }, config.elasticsearch.indexPrefix);
      await waitFor(async () => (await client.security.authenticate({}, { headers: { authorization: `Basic ${Buffer.from(`${user}:${passwords[0]}`).toString('base64')}` } }).then(() => true)), 'the node to take the new user', 60_000);
      await produceGenerated(config, 1_000, { seed: 51 });
      const { sink, logLines, explain } = await startCapturedSink(config);
      await waitFor(async () => (await indexedCount(client, config.elasticsearch.indexPrefix)) === 1_000, 'the first 1,000 documents', 120_000).catch(explain);

      // The password changes in Elasticsearch; the file still holds the old one.
      setElasticsearchFileUser(shared, { name: user, password: passwords[1], role: 'superuser' });
      await waitFor(async () => (await client.security.authenticate({}, { headers: { authorization: `Basic ${Buffer.from(`${user}:${passwords[1]}`).toString('base64')}` } }).then(() => true)), 'the node to take the new password', 60_000);
      await produceGenerated(config, 1_000, { seed: 52 });
      await waitFor(() => sink.stats().waitingForElasticsearch, 'the sink to say it waits for Elasticsearch', 60_000).catch(explain);
      expect(sink.stats().elasticsearchWaitReason).toMatch(/^401 security_exception: unable to authenticate user \[/);
      expect(sink.stats()).toMatchObject({ indexed: 1_000, deadLettered: 0 });

      // The file is fixed: the next attempt reads it, without a restart.
      writeFileSync(passwordFile, `${passwords[1]}\n`);
      await waitFor(async () => (await indexedCount(client, config.elasticsearch.indexPrefix)) === 2_000, 'all 2,000 documents', 60_000).catch(explain);
      await waitFor(() => !sink.stats().waitingForElasticsearch, 'the sink to stop waiting').catch(explain);
      expect(await deadLetterCount(config)).toBe(0);
      // Neither password, nor its encoded form, reached a log line.
      const logged = logLines.join('');
      for (const password of passwords) {
        expect(logged).not.toContain(password);
        expect(logged).not.toContain(Buffer.from(`${user}:${password}`).toString('base64'));
      }
    });

    it('waits out Elasticsearch unreachable in the middle of 30,000 events, indexing and fetching nothing meanwhile, then lands all of them once', { timeout: 400_000 }, async () => {
      // The sink reaches Elasticsearch through a forwarder that the test closes for the outage:
      // connections refused, as with a stopped node, without restarting one.
      const es = elasticsearchEndpoint();
      const target = new URL(es.url);
      const port = await freePort();
      let path = await tcpForwarder(port, { host: target.hostname, port: Number(target.port) });
      cleanups.push(() => path.close());
      const { config } = settings({ ...es, url: `http://127.0.0.1:${port}` });
      await produceGenerated(config, 30_000);
      const client = nodeClient({ endpoint: elasticsearchEndpoint() }, config.elasticsearch.indexPrefix);
      const { sink, explain } = await startCapturedSink(config);
      await waitFor(() => sink.stats().indexed >= 5_000, 'the first 5,000 documents', 120_000).catch(explain);

      await path.close();
      const cutAt = Date.now();
      // The sink notices, says so, and from then on indexes nothing until Elasticsearch is back.
      await waitFor(() => sink.stats().waitingForElasticsearch, 'the sink to say it waits for Elasticsearch', 60_000).catch(explain);
      const atOutage = sink.stats();
      expect(atOutage.indexed).toBeLessThan(30_000);
      const samples: ReturnType<typeof sink.stats>[] = [];
      while (Date.now() - cutAt < OUTAGE_MS) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        samples.push(sink.stats());
      }
      expect(samples.length).toBeGreaterThan(0);
      for (const stats of samples) {
        expect(stats.waitingForElasticsearch).toBe(true);
        expect(stats.elasticsearchWaitReason).toMatch(/^0 /); // no answer at all
        expect(stats.indexed).toBe(atOutage.indexed);
        expect(stats.deadLettered).toBe(0);
        // It holds at most one fetched batch in memory and fetches nothing more.
        expect(stats.fetched - stats.indexed - stats.deadLettered).toBeLessThanOrEqual(5_000);
      }
      path = await tcpForwarder(port, { host: target.hostname, port: Number(target.port) });

      await waitFor(async () => (await indexedCount(client, config.elasticsearch.indexPrefix).catch(() => 0)) === 30_000, 'all 30,000 documents', 180_000).catch(explain);
      await waitFor(() => !sink.stats().waitingForElasticsearch, 'the sink to stop waiting').catch(explain);
      expect(sink.stats().elasticsearchWaitReason).toBeUndefined();
      expect(await deadLetterCount(config)).toBe(0);
    });
  });
});
