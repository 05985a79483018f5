import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { afterAll, describe, expect, it } from 'vitest';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { loadConfig } from '../../src/config/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { eventMessage } from '../../src/kafka/messages.js';
import { readToEnd } from '../../src/kafka/read-to-end.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { startSink } from '../../src/sink/run.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { produceToEventsTopic } from '../support/forwarder.js';
import { elasticsearchEndpoint, kafkaEndpoint } from '../support/stack.js';
import { uniqueName, waitFor } from '../support/wait.js';

const SETS = [
  { name: 'the project fixtures', dir: join(PROJECT_ROOT, 'test', 'fixtures', 'okta-events') },
  { name: 'the real events of ../shared/data/okta-events', dir: join(PROJECT_ROOT, '..', 'shared', 'data', 'okta-events') },
];

function readEvents(dir: string): Record<string, unknown>[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.ndjson'))
    .flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n'))
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((event) => event !== null && typeof event === 'object' && !Array.isArray(event));
}

for (const set of SETS) {
  describe.skipIf(!existsSync(set.dir))(`${set.name} through Kafka, the sink and Elasticsearch`, () => {
    const clients: Client[] = [];
    afterAll(async () => {
      for (const client of clients) await client.close();
    });

    it('land with their event code, time and source IP, or take the documented dead-letter path', { timeout: 120_000 }, async () => {
      const events = readEvents(set.dir);
      const es = elasticsearchEndpoint();
      const { config } = loadConfig({
        env: {
          KAFKA_BROKERS: kafkaEndpoint().brokers.join(','),
          KAFKA_TOPIC_EVENTS: uniqueName('it-real-events'),
          KAFKA_TOPIC_CHECKPOINTS: uniqueName('it-real-checkpoints'),
          KAFKA_TOPIC_DEAD_LETTER: uniqueName('it-real-dlq'),
          KAFKA_CONSUMER_GROUP: uniqueName('it-real-group'),
          ELASTICSEARCH_URL: es.url,
          ELASTICSEARCH_USERNAME: es.username,
          ELASTICSEARCH_PASSWORD: es.password,
          ELASTICSEARCH_INDEX_PREFIX: uniqueName('it-real'),
        },
      });
      const codec = createOktaEventCodec();
      await produceToEventsTopic(config, events.map((event) => eventMessage('acme', event, codec)));
      const sink = await startSink({ config, kafka: createKafka(config.kafka), logger: createLogger({ level: 'silent' }), metrics: createMetrics() });
      const client = new Client({ node: es.url, auth: { username: es.username, password: es.password } });
      clients.push(client);
      try {
        await waitFor(() => sink.stats().indexed + sink.stats().deadLettered === events.length, `all ${events.length} events settled`, 60_000);
      } finally {
        await sink.stop();
      }
      const deadLetters: { stage?: string; uuid?: string }[] = [];
      await readToEnd(createKafka(config.kafka), config.kafka.topics.deadLetter, (message) =>
        deadLetters.push({ stage: message.headers?.stage?.toString(), uuid: message.key?.toString() }),
      );
      // The one documented dead-letter path: an event with no usable `published` (stage normalize); Elasticsearch rejects nothing.
      expect(deadLetters.every((d) => d.stage === 'normalize')).toBe(true);

      await client.indices.refresh({ index: `${config.elasticsearch.indexPrefix}-*` });
      const deadUuids = new Set(deadLetters.map((d) => d.uuid));
      for (const event of events) {
        const uuid = event.uuid;
        if (typeof uuid !== 'string' || deadUuids.has(uuid)) continue;
        const found = await client.search<Record<string, unknown>>({ index: `${config.elasticsearch.indexPrefix}-*`, query: { ids: { values: [uuid] } } });
        const doc = found.hits.hits[0]?._source as { metadata: { uid: string; event_code?: string }; time: number; src_endpoint?: { ip?: string } } | undefined;
        expect(doc, `event ${uuid}`).toBeDefined();
        expect(doc!.metadata.uid).toBe(uuid);
        if (typeof event.eventType === 'string') {
          // Several lines may share a uuid (exports repeat events): the document is one of them.
          const codes = events.filter((e) => e.uuid === uuid).map((e) => e.eventType);
          expect(codes).toContain(doc!.metadata.event_code);
        }
        const ip = (event.client as { ipAddress?: unknown } | undefined)?.ipAddress;
        if (typeof ip === 'string' && isIP(ip) && events.filter((e) => e.uuid === uuid).length === 1) expect(doc!.src_endpoint?.ip).toBe(ip);
        // A plain ISO time in UTC is the document's time; repaired and zone-less times are the unit tests' business.
        const published = typeof event.published === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/.test(event.published) ? Date.parse(event.published) : Number.NaN;
        const valid = Number.isFinite(published) && new Date(published).toISOString().slice(0, 10) === String(event.published).slice(0, 10);
        if (valid && events.filter((e) => e.uuid === uuid).length === 1) expect(doc!.time).toBe(published);
      }
    });
  });
}
