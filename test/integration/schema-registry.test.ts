import { Client } from '@elastic/elasticsearch';
import { afterEach, describe, expect, it } from 'vitest';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { eventSchemaSubject, publishingCodecOptions, SchemaRegistryClient } from '../../src/avro/schema-registry.js';
import { compileSchemaVersion, currentSchemaVersion } from '../../src/avro/schema-versions.js';
import { loadConfig, type ForwarderConfig } from '../../src/config/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { eventMessage } from '../../src/kafka/messages.js';
import { readToEnd } from '../../src/kafka/read-to-end.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { startPollers } from '../../src/poller/run.js';
import { startSink } from '../../src/sink/run.js';
import { startSimulator } from '../../src/simulator/index.js';
import { fixtureEvents } from '../support/fixtures.js';
import { produceToEventsTopic, writeTestConfig } from '../support/forwarder.js';
import { elasticsearchEndpoint } from '../support/stack.js';
import { uniqueName, waitFor } from '../support/wait.js';

/**
 * The schema registry path against a real registry (Confluent Schema Registry, or one that speaks
 * its API: Karapace, Redpanda, Apicurio's ccompat/v7), never a fake: what matters is that a real
 * registry takes the schema as the poller registers it and gives it back to the sink in a form
 * that still decodes losslessly. The machine that runs the other integration tests has none, so
 * this one runs only when SCHEMA_REGISTRY_URL names one (with SCHEMA_REGISTRY_USERNAME and
 * SCHEMA_REGISTRY_PASSWORD when it needs them):
 *
 *   SCHEMA_REGISTRY_URL=http://127.0.0.1:8081 npx vitest run test/integration/schema-registry.test.ts
 *
 * Each test registers under a subject of its own (its events topic's "-value") and deletes it at
 * the end.
 */
const REGISTRY_URL = process.env.SCHEMA_REGISTRY_URL ?? '';
const REGISTRY_USERNAME = process.env.SCHEMA_REGISTRY_USERNAME ?? '';
const REGISTRY_PASSWORD = process.env.SCHEMA_REGISTRY_PASSWORD ?? '';

/** Retries at test speed: the behaviour is the same, the waits are not. */
const FAST_RETRY = { initialMs: 50, maxMs: 500, multiplier: 2 };

const EVENTS = fixtureEvents();

const quietLogger = () => createLogger({ level: 'warn', destination: { write: () => undefined } });

describe.skipIf(REGISTRY_URL === '')(
  'a real schema registry (skipped without one: set SCHEMA_REGISTRY_URL, and SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD if it needs them, to run it)',
  () => {
    const cleanups: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    });

    /** A test configuration with the stack's Kafka and Elasticsearch and the registry; its own topics, group, index prefix and subject. */
    function registryConfig(orgs: Parameters<typeof writeTestConfig>[0]): ForwarderConfig {
      const es = elasticsearchEndpoint();
      const { file } = writeTestConfig(orgs, {
        elasticsearch: { nodes: [es.url], auth: { username: es.username }, indexPrefix: uniqueName('it-registry') },
        schemaRegistry: { url: REGISTRY_URL, ...(REGISTRY_USERNAME ? { username: REGISTRY_USERNAME } : {}) },
      });
      const { config } = loadConfig({
        file,
        env: {
          ELASTICSEARCH_PASSWORD: es.password,
          KAFKA_CONSUMER_GROUP: uniqueName('it-registry-group'),
          ...(REGISTRY_PASSWORD ? { SCHEMA_REGISTRY_PASSWORD: REGISTRY_PASSWORD } : {}),
        },
      });
      cleanups.push(() => deleteSubject(eventSchemaSubject(config)));
      const elasticsearch = new Client({ node: es.url, auth: { username: es.username, password: es.password } });
      cleanups.push(async () => {
        await elasticsearch.indices.delete({ index: `${config.elasticsearch.indexPrefix}-*` }).catch(() => undefined);
        await elasticsearch.close();
      });
      return config;
    }

    function registryClient(): SchemaRegistryClient {
      const client = new SchemaRegistryClient({ url: REGISTRY_URL, username: REGISTRY_USERNAME, password: REGISTRY_PASSWORD });
      cleanups.push(() => client.close());
      return client;
    }

    /** The test's subject, soft-deleted then for good, so a shared registry keeps nothing of the run. */
    async function deleteSubject(subject: string): Promise<void> {
      const headers: Record<string, string> = REGISTRY_USERNAME ? { authorization: `Basic ${Buffer.from(`${REGISTRY_USERNAME}:${REGISTRY_PASSWORD}`).toString('base64')}` } : {};
      const url = `${REGISTRY_URL.replace(/\/$/, '')}/subjects/${encodeURIComponent(subject)}`;
      await fetch(url, { method: 'DELETE', headers });
      await fetch(`${url}?permanent=true`, { method: 'DELETE', headers });
    }

    it('the poller registers the schema and writes the Confluent wire format; the sink fetches the id and indexes every event exactly as Okta sent it', { timeout: 180_000 }, async () => {
      const token = uniqueName('token');
      const sim = await startSimulator({ apiTokens: [token], rateLimitPerMinute: Infinity });
      cleanups.push(() => sim.close());
      const generated = sim.generate(300, { from: Date.now() - 2 * 86_400_000, to: Date.now() - 1000 }).map((event) => JSON.parse(JSON.stringify(event)) as Record<string, unknown>);
      const config = registryConfig([{ id: 'acme', domain: sim.domain, token }]);
      const kafka = createKafka(config.kafka);

      // The real poller, through the simulator, with the registry configured.
      const pollers = await startPollers({ config, assignment: 'every-org', kafka, logger: quietLogger(), metrics: createMetrics(), overrides: { retry: { unreachable: FAST_RETRY, needsOperator: FAST_RETRY, kafka: FAST_RETRY } } });
      cleanups.push(() => pollers.stop());
      const handle = pollers.handles.get('acme')!;
      await waitFor(() => handle.stats().progress?.caughtUp && handle.stats().events === generated.length, `all ${generated.length} events published`, 60_000);
      await pollers.stop();

      // The registry holds the current schema under "<events topic>-value"; registering it again gives the same id.
      const subject = `${config.kafka.topics.events}-value`;
      const client = registryClient();
      const schemaId = await client.register(subject, currentSchemaVersion().schema);
      const registered = await client.fetchSchema(schemaId);
      if (!registered.found) throw new Error(registered.reason);
      const schemaText = typeof registered.schema === 'string' ? registered.schema : JSON.stringify(registered.schema);
      expect(compileSchemaVersion(JSON.parse(schemaText) as object, undefined).fingerprint).toEqual(currentSchemaVersion().fingerprint);

      // The fixtures too (their dates are past what the simulator serves), with the encoding the poller and import use.
      const codec = createOktaEventCodec(await publishingCodecOptions(config, quietLogger()));
      expect(codec.confluentSchemaId).toBe(schemaId);
      await produceToEventsTopic(config, EVENTS.map((event) => eventMessage('acme', event, codec)));

      // Every record in Kafka is in the Confluent wire format with that id.
      const header = Buffer.alloc(5);
      header.writeInt32BE(schemaId, 1);
      const values: Buffer[] = [];
      await readToEnd(kafka, config.kafka.topics.events, (message) => void values.push(message.value as Buffer));
      expect(values).toHaveLength(generated.length + EVENTS.length);
      for (const value of values) expect(value.subarray(0, 5)).toEqual(header);
      // Read with the schema the registry gives back, they are the events exactly (-0, unknown fields, irregular values and all).
      const reader = createOktaEventCodec({ confluentSchemas: (id) => (id === schemaId ? schemaText : undefined) });
      const decoded = new Map<unknown, Record<string, unknown>[]>();
      for (const value of values) {
        const event = reader.decode(value);
        decoded.set(event.uuid, [...(decoded.get(event.uuid) ?? []), event]);
      }
      for (const event of [...generated, ...EVENTS]) expect(decoded.get(event.uuid)).toContainEqual(event);

      // The real sink: looks the id up in the registry, decodes, indexes with the raw event kept.
      const sink = await startSink({ config, kafka, logger: quietLogger(), metrics: createMetrics(), keepRaw: true, retry: FAST_RETRY });
      cleanups.push(() => sink.stop());
      await waitFor(() => sink.stats().indexed + sink.stats().deadLettered === values.length, `all ${values.length} records settled`, 60_000);
      await sink.stop();

      const deadLetters: { stage?: string; uuid?: string; reason?: string }[] = [];
      await readToEnd(kafka, config.kafka.topics.deadLetter, (message) =>
        deadLetters.push({ stage: message.headers?.stage?.toString(), uuid: message.key?.toString(), reason: message.headers?.reason?.toString() }),
      );
      // Nothing fails to decode; the one documented dead-letter path is an event with no usable `published`.
      expect(deadLetters.filter((d) => d.stage !== 'normalize')).toEqual([]);

      const es = elasticsearchEndpoint();
      const elasticsearch = new Client({ node: es.url, auth: { username: es.username, password: es.password } });
      cleanups.push(() => elasticsearch.close());
      await elasticsearch.indices.refresh({ index: `${config.elasticsearch.indexPrefix}-*` });
      const found = await elasticsearch.search<{ raw_data?: string }>({ index: `${config.elasticsearch.indexPrefix}-*`, size: 1000, query: { match_all: {} } });
      const indexed = new Map(found.hits.hits.map((hit) => [hit._id, hit._source?.raw_data]));
      const deadUuids = new Set(deadLetters.map((d) => d.uuid));
      const all = [...generated, ...EVENTS];
      // Events without a uuid are indexed under a hash of their record; a repeated uuid is one document.
      const comparable = all.filter((event) => typeof event.uuid === 'string' && !deadUuids.has(event.uuid) && all.filter((e) => e.uuid === event.uuid).length === 1);
      expect(comparable.length).toBeGreaterThan(generated.length + EVENTS.length / 2);
      for (const event of comparable) {
        const raw = indexed.get(event.uuid as string);
        expect(raw, `event ${String(event.uuid)}`).toBeDefined();
        // raw_data is JSON text, which has no -0: compared with the event's own JSON text.
        expect(JSON.parse(raw!), `event ${String(event.uuid)}`).toStrictEqual(JSON.parse(JSON.stringify(event)));
      }
    });

    it('dead-letters a record whose schema id the registry has no schema for, with the reason, and indexes the rest', { timeout: 120_000 }, async () => {
      const config = registryConfig([]);
      const client = registryClient();
      const schemaId = await client.register(eventSchemaSubject(config), currentSchemaVersion().schema);
      const codec = createOktaEventCodec({ encodeWithConfluentId: schemaId });
      const event = EVENTS.find((e) => typeof e.uuid === 'string' && typeof e.published === 'string' && e.published.endsWith('Z'))!;
      const good = eventMessage('acme', event, codec);
      const unknownId = 0x7fffffff;
      const orphan = eventMessage('acme', { ...event, uuid: 'orphan-record' }, codec);
      (orphan.value as Buffer).writeInt32BE(unknownId, 1);
      await produceToEventsTopic(config, [orphan, good]);

      const kafka = createKafka(config.kafka);
      const sink = await startSink({ config, kafka, logger: quietLogger(), metrics: createMetrics(), retry: FAST_RETRY });
      cleanups.push(() => sink.stop());
      await waitFor(() => sink.stats().indexed === 1 && sink.stats().deadLettered === 1, 'one record indexed, one dead-lettered', 60_000);
      await sink.stop();

      const deadLetters: Record<string, string | undefined>[] = [];
      await readToEnd(kafka, config.kafka.topics.deadLetter, (message) =>
        deadLetters.push({
          key: message.key?.toString(),
          stage: message.headers?.stage?.toString(),
          reason: message.headers?.reason?.toString(),
          errorType: message.headers?.['error.type']?.toString(),
        }),
      );
      expect(deadLetters).toEqual([
        {
          key: 'orphan-record',
          stage: 'decode',
          errorType: 'OF_AVRO_DECODE',
          reason: expect.stringMatching(new RegExp(`resolving Confluent schema id ${unknownId}: the schema registry .* has no schema with id ${unknownId} \\(404\\)`)),
        },
      ]);
    });
  },
);
