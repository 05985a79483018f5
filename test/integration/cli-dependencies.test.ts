import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { afterEach, describe, expect, it } from 'vitest';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { eventMessage } from '../../src/kafka/messages.js';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { spawnCli } from '../support/cli.js';
import { produceToEventsTopic, readPublishedEvents, writeTestConfig } from '../support/forwarder.js';
import { freePort, tcpForwarder } from '../support/net.js';
import { elasticsearchEndpoint, kafkaEndpoint } from '../support/stack.js';
import { uniqueName, waitFor } from '../support/wait.js';

const DAY = 86_400_000;

interface Probe {
  status: number;
  body: Record<string, unknown>;
}

async function probe(port: number, path: string): Promise<Probe | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    const text = await response.text();
    return { status: response.status, body: path === '/metrics' ? { text } : (JSON.parse(text) as Record<string, unknown>) };
  } catch {
    return undefined;
  }
}

async function indexedCount(client: Client, prefix: string): Promise<number> {
  await client.indices.refresh({ index: `${prefix}-*`, allow_no_indices: true, ignore_unavailable: true });
  return (await client.count({ index: `${prefix}-*`, allow_no_indices: true, ignore_unavailable: true })).count;
}

describe('a process whose dependencies are missing at start', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  const es = elasticsearchEndpoint();
  const client = new Client({ node: es.url, auth: { username: es.username, password: es.password } });

  it('run answers /healthz, /readyz and /metrics at once, waits for Kafka visibly without exiting, and carries on when Kafka appears', { timeout: 240_000 }, async () => {
    const token = uniqueName('token');
    const sim: SimulatorHandle = await startSimulator({ apiTokens: [token], rateLimitPerMinute: Infinity });
    cleanups.push(() => sim.close());
    sim.generate(1_500, { from: Date.now() - 2 * DAY, to: Date.now() - 1000 });
    const [metricsPort, kafkaPort] = [await freePort(), await freePort()];
    const prefix = uniqueName('it-deps');
    cleanups.push(() => client.indices.delete({ index: `${prefix}-*` }));
    const { file } = writeTestConfig([{ id: 'acme', domain: sim.domain, token }], {
      metricsPort,
      elasticsearch: { nodes: [es.url], auth: { username: es.username }, indexPrefix: prefix },
    });
    // Nothing listens on kafkaPort yet: Kafka is down.
    const run = spawnCli(['run', '--config', file], { ELASTICSEARCH_PASSWORD: es.password, KAFKA_BROKERS: `127.0.0.1:${kafkaPort}` });

    const healthy = await waitFor(() => probe(metricsPort, '/healthz'), '/healthz', 15_000);
    expect(healthy.status).toBe(200);
    const waiting = await waitFor(async () => {
      const ready = await probe(metricsPort, '/readyz');
      return ready && ready.status === 503 && JSON.stringify(ready.body).includes('Kafka') ? ready : undefined;
    }, '/readyz saying what it waits for');
    expect(waiting.body).toMatchObject({ ready: false, waitingFor: { Kafka: expect.stringMatching(/creating the Kafka topics: .*(Connection|ECONNREFUSED|connect)/i) } });
    expect((await probe(metricsPort, '/metrics'))?.status).toBe(200);
    // Past the ~20 s after which it used to exit 1: still up, still saying why.
    const startedWaitingAt = Date.now();
    await waitFor(async () => {
      expect(run.child.exitCode, run.output().slice(-2000)).toBeNull();
      return Date.now() - startedWaitingAt > 30_000;
    }, 'half a minute of waiting', 60_000);
    expect((await probe(metricsPort, '/readyz'))?.status).toBe(503);
    expect(run.output()).toMatch(/waiting for Kafka: creating the Kafka topics/);

    // Kafka comes back: the process gets on with it by itself.
    const kafka = kafkaEndpoint().brokers[0]!.split(':');
    const forwarder = await tcpForwarder(kafkaPort, { host: kafka[0]!, port: Number(kafka[1]) });
    cleanups.push(() => forwarder.close());
    await waitFor(async () => (await indexedCount(client, prefix)) === 1_500, 'all 1,500 documents after Kafka came back', 150_000).catch((err: Error) => {
      throw new Error(`${err.message}; output: ${run.output().slice(-3000)}`);
    });
    await waitFor(async () => (await probe(metricsPort, '/readyz'))?.status === 200, '/readyz 200');
    expect(run.output()).toMatch(/Kafka answered/);
    run.child.kill('SIGTERM');
    expect(await run.exited, run.output().slice(-2000)).toBe(0);
  });

  it('import waits for Kafka, saying so, and imports everything once Kafka appears', { timeout: 120_000 }, async () => {
    const kafkaPort = await freePort();
    const { config, file, dir } = writeTestConfig([]);
    const sim = await startSimulator({ seed: 9 });
    const events = sim.generate(300, { from: Date.now() - DAY, to: Date.now() - 1000 });
    await sim.close();
    const input = join(dir, 'events.ndjson');
    writeFileSync(input, `${events.map((event) => JSON.stringify(event)).join('\n')}\n`);
    const importing = spawnCli(['import', input, '--org', 'acme', '--config', file], { KAFKA_BROKERS: `127.0.0.1:${kafkaPort}` });
    await waitFor(() => /import: waiting for Kafka: creating the Kafka topics/.test(importing.output()), 'the import to say it waits for Kafka', 30_000);
    expect(importing.child.exitCode).toBeNull();
    const kafka = kafkaEndpoint().brokers[0]!.split(':');
    const forwarder = await tcpForwarder(kafkaPort, { host: kafka[0]!, port: Number(kafka[1]) });
    cleanups.push(() => forwarder.close());
    expect(await importing.exited, importing.output().slice(-2000)).toBe(0);
    const published = await readPublishedEvents(createKafka(config.kafka), config);
    expect(new Set(published.map((event) => event.uuid)).size).toBe(300);
    expect(published).toHaveLength(300);
  });

  it('sink with a wrong Elasticsearch password serves /metrics and /readyz, says what it waits for, and starts once the password file is fixed', { timeout: 180_000 }, async () => {
    const metricsPort = await freePort();
    const prefix = uniqueName('it-deps-sink');
    cleanups.push(() => client.indices.delete({ index: `${prefix}-*` }));
    const { config, file, dir } = writeTestConfig([], { metricsPort });
    const passwordFile = join(dir, 'es-password');
    writeFileSync(passwordFile, 'not-the-password\n');
    const sim = await startSimulator({ seed: 5 });
    const events = sim.generate(500, { from: Date.now() - DAY, to: Date.now() - 1000 });
    await sim.close();
    const codec = createOktaEventCodec();
    await produceToEventsTopic(config, events.map((event) => eventMessage('acme', event, codec)));
    const sink = spawnCli(['sink', '--config', file], {
      ELASTICSEARCH_URL: es.url,
      ELASTICSEARCH_USERNAME: es.username,
      ELASTICSEARCH_PASSWORD_FILE: passwordFile,
      ELASTICSEARCH_INDEX_PREFIX: prefix,
      KAFKA_CONSUMER_GROUP: uniqueName('it-deps-group'),
    });
    expect((await waitFor(() => probe(metricsPort, '/healthz'), '/healthz', 15_000)).status).toBe(200);
    const waiting = await waitFor(async () => {
      const ready = await probe(metricsPort, '/readyz');
      return ready && JSON.stringify(ready.body).includes('Elasticsearch') ? ready : undefined;
    }, '/readyz saying it waits for Elasticsearch', 30_000);
    expect(waiting.status).toBe(503);
    expect(waiting.body).toMatchObject({ ready: false, waitingFor: { Elasticsearch: expect.stringMatching(/installing the index template: .*(security_exception|401|unable to authenticate)/i) } });
    expect((await probe(metricsPort, '/metrics'))?.status).toBe(200);
    expect(sink.output()).not.toContain('not-the-password');

    writeFileSync(passwordFile, `${es.password}\n`);
    await waitFor(async () => (await indexedCount(client, prefix)) === 500, 'all 500 documents once the password is fixed', 120_000).catch((err: Error) => {
      throw new Error(`${err.message}; output: ${sink.output().slice(-3000)}`);
    });
    await waitFor(async () => (await probe(metricsPort, '/readyz'))?.status === 200, '/readyz 200');
    sink.child.kill('SIGTERM');
    expect(await sink.exited, sink.output().slice(-2000)).toBe(0);
  });
});
