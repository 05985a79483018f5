import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { loadConfig, type ForwarderConfig } from '../../src/config/index.js';
import { activityIndexTemplate, installIndexTemplate } from '../../src/elasticsearch/template.js';
import { createKafka } from '../../src/kafka/client.js';
import { readToEnd } from '../../src/kafka/read-to-end.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { prepareActivity, type ActivityAction, type ActivityRejection } from '../../src/normalize/index.js';
import { startSink } from '../../src/sink/run.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { fixtureEvents } from '../support/fixtures.js';
import { produceToEventsTopic } from '../support/forwarder.js';
import { HOSTILE_CLASSES, hostileEvents } from '../support/hostile-events.js';
import { elasticsearchEndpoint, kafkaEndpoint } from '../support/stack.js';
import { uniqueName, waitFor } from '../support/wait.js';

// What prepareActivity (the sink's and the preview's one function) accepts, a real Elasticsearch
// with the real template accepts: every hostile case, repaired or not, is indexed; what it
// refuses carries a reason. On 95a5b92 these documents were refused (NUL keys, depth, dates past
// 9999, over-long ids), or never made (stack overflow, a quadratic pattern).

const HOSTILE_DIR = join(PROJECT_ROOT, 'test', 'fixtures', 'hostile');

interface Case {
  name: string;
  /** The event, or undefined for a line that is not JSON. */
  event: unknown;
}

function hostileCases(): Case[] {
  const expectations = JSON.parse(readFileSync(join(HOSTILE_DIR, 'expectations.json'), 'utf8')) as Record<string, { line: number; name: string }[]>;
  const fromFiles = Object.entries(expectations).flatMap(([file, lines]) => {
    const texts = readFileSync(join(HOSTILE_DIR, file), 'utf8').split('\n');
    return lines.map(({ line, name }) => ({ name, text: texts[line - 1] as string }));
  });
  const generated = hostileEvents(8_2024, 4 * HOSTILE_CLASSES.length).map(({ name, event }) => ({ name, text: typeof event === 'string' ? event : JSON.stringify(event) }));
  return [...fromFiles, ...generated].map(({ name, text }) => {
    try {
      return { name, event: JSON.parse(text) as unknown };
    } catch {
      return { name, event: undefined };
    }
  });
}

function elasticsearchClient(): Client {
  const { url, username, password } = elasticsearchEndpoint();
  return new Client({ node: url, ...(username ? { auth: { username, password } } : {}) });
}

describe('prepareActivity against a real Elasticsearch with the real template', () => {
  const client = elasticsearchClient();
  const prefix = uniqueName('it-hostile');

  beforeAll(async () => {
    await installIndexTemplate(client, prefix);
  });

  afterAll(async () => {
    await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    await client.indices.deleteIndexTemplate({ name: activityIndexTemplate(prefix).name }, { ignore: [404] });
    await client.close();
  });

  /** Indexes the actions a few megabytes per `_bulk`; the failures by case name. */
  async function indexAll(actions: { name: string; action: ActivityAction }[]): Promise<{ name: string; error: unknown }[]> {
    const failures: { name: string; error: unknown }[] = [];
    let batch: typeof actions = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const response = await client.bulk({ operations: batch.flatMap(({ action }) => [{ index: { _index: action.index, _id: action.id } }, action.document]) });
      response.items.forEach((item, i) => {
        if (item.index?.error) failures.push({ name: (batch[i] as (typeof batch)[number]).name, error: item.index.error });
      });
      batch = [];
      bytes = 0;
    };
    for (const entry of actions) {
      batch.push(entry);
      bytes += JSON.stringify(entry.action.document).length;
      if (bytes > 8 * 1024 * 1024) await flush();
    }
    await flush();
    await client.indices.refresh({ index: `${prefix}-*` });
    return failures;
  }

  it('indexes every document it makes of the hostile fixtures and seeded hostile events, and gives a reason for every rejection', async () => {
    const cases = hostileCases();
    const actions: { name: string; action: ActivityAction }[] = [];
    const rejections: { name: string; rejection: ActivityRejection }[] = [];
    for (const keepRaw of [false, true]) {
      for (const { name, event } of cases) {
        if (event === undefined) continue; // not JSON: refused before any event exists
        const result = prepareActivity(event, { org: 'acme.okta.com', keepRaw, indexPrefix: prefix });
        if (result.ok) actions.push({ name, action: keepRaw ? { ...result, id: `${result.id.slice(0, 400)}-raw` } : result });
        else rejections.push({ name, rejection: result });
      }
    }
    expect(await indexAll(actions)).toEqual([]);
    const ids = new Set(actions.map(({ action }) => action.id));
    expect((await client.count({ index: `${prefix}-*` })).count).toBe(ids.size);
    expect(actions.length).toBeGreaterThan(100);
    // Each rejection names the stage, the error type and a reason short enough for a header.
    expect(rejections.length).toBeGreaterThan(10);
    for (const { name, rejection } of rejections) {
      expect(rejection, name).toMatchObject({ stage: 'normalize', errorType: 'OF_NORMALIZE' });
      expect(rejection.reason.length, name).toBeGreaterThan(20);
      expect(rejection.reason.length, name).toBeLessThan(400);
    }
    // Every repair is in the documents Elasticsearch stored, with the original kept.
    for (const label of ['uuid_unusable', 'unmapped_non_finite_numbers', 'unmapped_too_deep', 'unmapped_unsafe_keys']) {
      const found = await client.count({ index: `${prefix}-*`, query: { term: { 'metadata.labels': label } } });
      expect(found.count, label).toBeGreaterThan(0);
    }
    const unsafe = await client.search({ index: `${prefix}-*`, query: { exists: { field: 'unmapped.okta_forwarder_unsafe_keys' } }, size: 50 });
    const texts = unsafe.hits.hits.map((hit) => JSON.stringify((hit._source as { unmapped: Record<string, unknown> }).unmapped));
    expect(texts.some((text) => text.includes('risk\\\\u0000score'))).toBe(true);
  });

  it('would be refused without the repairs (the checks above can fail)', async () => {
    const base = fixtureEvents()[0] as Record<string, unknown>;
    const good = prepareActivity(base, { org: 'acme.okta.com', indexPrefix: prefix }) as ActivityAction;
    const unrepaired = [
      { ...good.document, unmapped: { 'a\u0000b': 1 } },
      { ...good.document, unmapped: { deep: JSON.parse(`${'{"a":'.repeat(45)}1${'}'.repeat(45)}`) as unknown } },
      { ...good.document, '@timestamp': '+010000-01-01T00:30:00.000Z' },
    ];
    const response = await client.bulk({ operations: unrepaired.flatMap((document, i) => [{ index: { _index: good.index, _id: `unrepaired-${i}` } }, document]) });
    expect(response.items.map((item) => item.index?.status)).toEqual([400, 400, 400]);
  });
});

describe('the sink, with the one id rule and the hostile events', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function sinkConfig(): ForwarderConfig {
    const es = elasticsearchEndpoint();
    return loadConfig({
      env: {
        KAFKA_BROKERS: kafkaEndpoint().brokers.join(','),
        KAFKA_TOPIC_EVENTS: uniqueName('it-hostile-events'),
        KAFKA_TOPIC_CHECKPOINTS: uniqueName('it-hostile-checkpoints'),
        KAFKA_TOPIC_DEAD_LETTER: uniqueName('it-hostile-dlq'),
        KAFKA_CONSUMER_GROUP: uniqueName('it-hostile-group'),
        ELASTICSEARCH_URL: es.url,
        ELASTICSEARCH_USERNAME: es.username,
        ELASTICSEARCH_PASSWORD: es.password,
        ELASTICSEARCH_INDEX_PREFIX: uniqueName('it-hostile'),
      },
    }).config;
  }

  it('indexes what the preview shows, under the same ids, dead-letters what it refuses, and lands the good records around them', async () => {
    const config = sinkConfig();
    const codec = createOktaEventCodec();
    const good = fixtureEvents().filter((event) => prepareActivity(event, { org: 'acme', indexPrefix: 'x' }).ok);
    // Records the Avro encoder takes and Kafka's default 1 MB limit allows (1e400, deep nesting
    // and oversized records are refused earlier, by the poller and import).
    const hostile = hostileCases().flatMap(({ name, event }) => {
      if (event === null || typeof event !== 'object' || Array.isArray(event)) return [];
      try {
        const bytes = codec.encode(event as Record<string, unknown>);
        return bytes.length < 900_000 ? [{ name, event: event as Record<string, unknown>, bytes }] : [];
      } catch {
        return [];
      }
    });
    const twoNulls = [
      { name: 'null uuid, first', event: { ...good[0], uuid: 'null', displayMessage: 'first of two' } },
      { name: 'null uuid, second', event: { ...good[0], uuid: 'null', displayMessage: 'second of two' } },
    ].map((entry) => ({ ...entry, bytes: codec.encode(entry.event) }));
    const records = [...twoNulls, ...hostile].flatMap((entry, i) => [{ name: 'good', event: { ...(good[i % good.length] as object), uuid: `good-${i}` }, bytes: undefined }, entry]);
    await produceToEventsTopic(
      config,
      records.map(({ event, bytes }) => ({ key: null, value: bytes ?? codec.encode(event), headers: { org: 'acme' } })),
    );
    const expected = records.map(({ name, event }) => ({ name, result: prepareActivity(event, { org: 'acme', indexPrefix: config.elasticsearch.indexPrefix }) }));
    const documents = new Map(expected.flatMap(({ result }) => (result.ok ? [[result.id, result]] : [])));
    const rejected = expected.filter(({ result }) => !result.ok);
    expect(hostile.length).toBeGreaterThan(50);
    expect(rejected.length).toBeGreaterThanOrEqual(4);

    const client = elasticsearchClient();
    cleanups.push(async () => {
      await client.indices.delete({ index: `${config.elasticsearch.indexPrefix}-*`, ignore_unavailable: true, allow_no_indices: true });
      await client.indices.deleteIndexTemplate({ name: activityIndexTemplate(config.elasticsearch.indexPrefix).name }, { ignore: [404] });
      await client.close();
    });
    const kafka = createKafka(config.kafka);
    const log: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void log.push(line.slice(0, 500)) } });
    const handle = await startSink({ config, kafka, logger, metrics: createMetrics(), retry: { initialMs: 50, maxMs: 500, multiplier: 2 } });
    cleanups.push(() => handle.stop());
    await waitFor(() => handle.stats().indexed + handle.stats().deadLettered === records.length, `all ${records.length} records settled`, 120_000).catch((error: Error) => {
      throw new Error(`${error.message}; sink ${JSON.stringify(handle.stats())}; its log: ${log.slice(-10).join('')}`);
    });

    expect(handle.stats().deadLettered).toBe(rejected.length);
    await client.indices.refresh({ index: `${config.elasticsearch.indexPrefix}-*` });
    expect((await client.count({ index: `${config.elasticsearch.indexPrefix}-*` })).count).toBe(documents.size);
    // The two events with uuid "null" are two documents, under the ids the preview gives them.
    const [first, second] = twoNulls.map(({ event }) => prepareActivity(event, { org: 'acme', indexPrefix: config.elasticsearch.indexPrefix }) as ActivityAction);
    expect(first?.id).not.toBe(second?.id);
    for (const action of [first, second] as ActivityAction[]) {
      const stored = await client.get({ index: action.index, id: action.id });
      expect(stored._source).toEqual(JSON.parse(JSON.stringify(action.document)));
    }
    const deadLetters: string[] = [];
    await readToEnd(kafka, config.kafka.topics.deadLetter, (message) => deadLetters.push(String(message.headers?.reason)));
    expect(deadLetters.sort()).toEqual(rejected.map(({ result }) => (result as ActivityRejection).reason).sort());
  });
});
