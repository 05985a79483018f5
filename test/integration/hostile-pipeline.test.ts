import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { EXIT_DEAD_LETTERED } from '../../src/cli/exit-codes.js';
import type { ForwarderConfig } from '../../src/config/index.js';
import { activityIndexTemplate } from '../../src/elasticsearch/template.js';
import { createKafka } from '../../src/kafka/client.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics, type Metrics } from '../../src/metrics/registry.js';
import { eventId } from '../../src/normalize/event-id.js';
import { isPlainObject } from '../../src/normalize/values.js';
import { prepareActivity, type ActivityAction, type ActivityRejection } from '../../src/normalize/index.js';
import { startPollers } from '../../src/poller/run.js';
import { EventGenerator } from '../../src/simulator/event-generator.js';
import { startSimulator } from '../../src/simulator/index.js';
import { startSink } from '../../src/sink/run.js';
import type { SinkHandle } from '../../src/sink/sink.js';
import { runNode } from '../support/cli.js';
import { documentIds, testIndexClient } from '../support/elasticsearch.js';
import { duplicates, writeTestConfig } from '../support/forwarder.js';
import { badRecords, readDeadLetters, type BadRecord, type DeadLetter } from '../support/hostile-pipeline.js';
import { testSeed, withSeed } from '../support/seeded.js';
import { elasticsearchEndpoint } from '../support/stack.js';
import { tempDir } from '../support/temp.js';
import { uniqueName, waitFor } from '../support/wait.js';

// Issue 8, done means: for each hostile class, one bad record among 10,000 good ones, through the
// real poller (the simulator serving it), `import`, `normalize` and the real sink on the real
// Kafka and Elasticsearch. Every record ends indexed (repaired, with its label) or dead-lettered
// with a stage and a reason; the 10,000 around it land, each exactly once; nothing else is indexed
// or dead-lettered; the processes stay up; what the preview shows is what lands. The bad records
// are one seeded variant of every class of test/support/hostile-events.ts plus the cases the issue
// names (test/support/hostile-pipeline.ts); OKTA_FORWARDER_TEST_SEED replays a run.

const GOOD_BETWEEN = 10_000;
const DAY = 86_400_000;
const FAST_RETRY = { unreachable: { initialMs: 20, maxMs: 100, multiplier: 2 }, needsOperator: { initialMs: 50, maxMs: 200, multiplier: 2 }, kafka: { initialMs: 50, maxMs: 500, multiplier: 2 } };
const SINK_RETRY = { initialMs: 50, maxMs: 500, multiplier: 2 };

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** What `normalize` (and the sink, for the same event) makes of a text: undefined when it is not JSON. */
function preview(text: string, indexPrefix: string): ActivityAction | ActivityRejection | undefined {
  return isJson(text) ? prepareActivity(JSON.parse(text), { org: 'acme', indexPrefix }) : undefined;
}

/** A process's log lines, kept short, for failure messages. */
function logCollector(): { logger: ReturnType<typeof createLogger>; tail: () => string } {
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(line.slice(0, 400)) } });
  return { logger, tail: () => lines.slice(-15).join('') };
}

/** The configuration of a run: the stack's Kafka and Elasticsearch, topics, group and index prefix of its own. */
function pipelineConfig(orgs: Parameters<typeof writeTestConfig>[0]) {
  const es = elasticsearchEndpoint();
  const passwordFile = join(tempDir(), 'elasticsearch.password');
  writeFileSync(passwordFile, es.password);
  const indexPrefix = uniqueName('it-hostile-pipeline');
  const written = writeTestConfig(orgs, { elasticsearch: { nodes: [es.url], auth: { username: es.username, passwordFile }, indexPrefix } });
  const config: ForwarderConfig = { ...written.config, kafka: { ...written.config.kafka, consumerGroup: uniqueName('it-hostile-sink') } };
  return { ...written, config, indexPrefix };
}

/** The consumer lag of every partition of the events topic, once the sink has reported all of them. */
async function consumerLag(metrics: Metrics, topic: string, partitions: number): Promise<number[] | undefined> {
  const text = await metrics.registry.getSingleMetricAsString('okta_forwarder_sink_consumer_lag');
  const lags = [...text.matchAll(/okta_forwarder_sink_consumer_lag\{([^}]*)\} (\d+)/g)].filter(([, labels]) => labels?.includes(`topic="${topic}"`)).map(([, , lag]) => Number(lag));
  return lags.length === partitions ? lags : undefined;
}

/** Every document of `<prefix>-*`, by `_id`. */
async function allDocuments(client: Client, prefix: string): Promise<Map<string, unknown>> {
  await client.indices.refresh({ index: `${prefix}-*` });
  const found = new Map<string, unknown>();
  for await (const response of client.helpers.scrollSearch({ index: `${prefix}-*`, size: 5_000, sort: ['_doc'] })) {
    for (const hit of response.body.hits.hits) found.set(hit._id as string, hit._source);
  }
  return found;
}

/** Every document of `<prefix>-*` by `_id`, sources included. */
async function documentsById(client: Client, prefix: string, ids: string[]): Promise<Map<string, unknown>> {
  const found = new Map<string, unknown>();
  for (let i = 0; i < ids.length; i += 1000) {
    const response = await client.search({ index: `${prefix}-*`, query: { ids: { values: ids.slice(i, i + 1000) } }, size: 1000 });
    for (const hit of response.hits.hits) found.set(hit._id as string, hit._source);
  }
  return found;
}

const labelsOf = (document: unknown): unknown => (document as { metadata?: { labels?: unknown } }).metadata?.labels;

/** The document as JSON carries it (what Elasticsearch stores and returns). */
const asStored = (document: unknown): unknown => JSON.parse(JSON.stringify(document));

interface Settled {
  record: BadRecord;
  preview: ActivityAction | ActivityRejection | undefined;
  /** Its `_id` when Elasticsearch holds it. */
  indexed: string | undefined;
  deadLetters: DeadLetter[];
}

/**
 * Checks what became of one bad record: exactly one end, and the end the preview and the issue
 * predict. `publishStage` is `poll` or `import`; `sources` the indexed documents by `_id`.
 */
function checkBadRecord({ record, preview: shown, indexed, deadLetters }: Settled, publishStage: string, sources: Map<string, unknown>): void {
  const ends = (indexed === undefined ? 0 : 1) + deadLetters.length;
  expect(ends, `${record.name} ends indexed or dead-lettered, exactly once (indexed as ${indexed}, ${deadLetters.length} dead letters)`).toBe(1);
  if (indexed !== undefined) {
    expect(shown?.ok, `${record.name} is indexed: the preview shows a document for it`).toBe(true);
    const action = shown as ActivityAction;
    expect(sources.get(indexed), `${record.name}: the indexed document is the preview's`).toEqual(asStored(action.document));
    if (record.expected && !record.expected.indexed) throw new Error(`${record.name} was indexed; it must be dead-lettered (${String(record.expected.reason)})`);
    if (record.expected?.indexed && record.expected.label) expect(labelsOf(action.document), `${record.name} carries its repair`).toContain(record.expected.label);
    return;
  }
  const { headers } = deadLetters[0] as DeadLetter;
  expect(headers.stage, `${record.name}: its dead letter says at which stage`).toMatch(/^(poll|import|decode|normalize|index)$/);
  expect(headers.reason?.length ?? 0, `${record.name}: its dead letter says why`).toBeGreaterThan(10);
  if (headers.stage === 'normalize') {
    expect(shown?.ok, `${record.name} is refused by normalization: the preview refuses it too`).toBe(false);
    expect(headers.reason, `${record.name}: the preview gives the sink's reason`).toBe((shown as ActivityRejection).reason);
  }
  if (record.expected?.indexed) throw new Error(`${record.name} was dead-lettered (${headers.stage}: ${headers.reason}); it must be indexed`);
  if (record.expected) {
    expect(headers.stage, record.name).toBe(record.expected.stage === 'publish' ? publishStage : record.expected.stage);
    expect(headers.reason, record.name).toMatch(record.expected.reason);
    if (record.expected.errorType) expect(headers['error.type'], record.name).toBe(record.expected.errorType);
  }
}

describe('hostile records through the whole pipeline: every record indexed or dead-lettered with its reason, the good ones around it all landed', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  async function runSink(config: ForwarderConfig, kafka: Kafka, metrics: Metrics, logger: ReturnType<typeof createLogger>): Promise<SinkHandle> {
    const sink = await startSink({ config, kafka, logger, metrics, retry: SINK_RETRY });
    cleanups.push(() => sink.stop());
    return sink;
  }

  function indexClient(prefix: string): Client {
    const client = testIndexClient(prefix);
    cleanups.push(() => client.indices.deleteIndexTemplate({ name: activityIndexTemplate(prefix).name }, { ignore: [404] }));
    return client;
  }

  /** Until the sink has indexed or dead-lettered everything committed to the events topic: its lag is 0 on every partition. */
  async function untilDrained(config: ForwarderConfig, metrics: Metrics, sink: SinkHandle, log: () => string): Promise<void> {
    await waitFor(
      async () => (await consumerLag(metrics, config.kafka.topics.events, config.kafka.eventsPartitions))?.every((lag) => lag === 0),
      () => `the sink's consumer lag to reach 0 on every partition; sink ${JSON.stringify(sink.stats())}; its log: ${log()}`,
      240_000,
      500,
    );
  }

  /** Whether a promise has settled (a process that stays up has not). */
  function settledFlag(done: Promise<unknown>): () => boolean {
    let settled = false;
    done.then(
      () => (settled = true),
      () => (settled = true),
    );
    return () => settled;
  }

  it(`the poller and the sink: ${GOOD_BETWEEN.toLocaleString('en')} good events between consecutive bad ones, served by the simulator`, { timeout: 600_000 }, async () => {
    const seed = testSeed(8_000_8);
    await withSeed(seed, async () => {
      const token = uniqueName('token');
      const sim = await startSimulator({ apiTokens: [token], rateLimitPerMinute: Infinity, seed: seed.seed });
      cleanups.push(() => sim.close());
      // Only JSON can be a page item: a page that is not JSON is Okta failing, not a bad event.
      const bad = badRecords(seed.random, isJson, 'every-class');
      const good = new Set<string>();
      const from = Date.now() - DAY;
      const step = (DAY - 60_000) / (bad.length + 1);
      for (let i = 0; i <= bad.length; i++) {
        for (const event of sim.generate(GOOD_BETWEEN, { from: from + i * step, to: from + (i + 1) * step - 1 })) good.add(event.uuid);
        if (i < bad.length) sim.appendRaw((bad[i] as BadRecord).text);
      }
      const served = sim.eventCount;
      expect(served).toBe(good.size + bad.length);
      console.info(`serving ${served} events: ${bad.length} bad ones (${bad.map((record) => record.name).join(', ')}), ${GOOD_BETWEEN} good ones before, between and after them`);

      const { config, indexPrefix } = pipelineConfig([{ id: 'acme', domain: sim.domain, token }]);
      const client = indexClient(indexPrefix);
      const kafka = createKafka(config.kafka);
      const pollerLog = logCollector();
      const pollers = await startPollers({ config, assignment: 'every-org', kafka, logger: pollerLog.logger, metrics: createMetrics(), overrides: { retry: FAST_RETRY } });
      cleanups.push(() => pollers.stop());
      const pollersEnded = settledFlag(pollers.done);
      const sinkLog = logCollector();
      const metrics = createMetrics();
      const sink = await runSink(config, kafka, metrics, sinkLog.logger);
      const sinkEnded = settledFlag(sink.done);

      const poller = pollers.handles.get('acme')!;
      const started = Date.now();
      await waitFor(
        () => poller.stats().events === served && poller.stats().progress?.caughtUp && poller.stats().state === 'connected',
        () => `the poller to take all ${served} events and catch up; poller ${JSON.stringify(poller.stats())}; its log: ${pollerLog.tail()}`,
        300_000,
        200,
      );
      const caughtUpS = (Date.now() - started) / 1000;
      await untilDrained(config, metrics, sink, sinkLog.tail);
      console.info(`the poller caught up after ${caughtUpS.toFixed(0)} s, the sink drained after ${((Date.now() - started) / 1000).toFixed(0)} s`);
      // The processes stayed up through all of it.
      expect(pollersEnded(), 'the pollers are still running').toBe(false);
      expect(sinkEnded(), 'the sink is still running').toBe(false);
      expect(poller.stats().state).toBe('connected');

      const ids = await documentIds(client, indexPrefix);
      expect(duplicates(ids), 'documents indexed twice').toEqual([]);
      const indexed = new Set(ids);
      const goodMissing = [...good].filter((uuid) => !indexed.has(uuid));
      expect(goodMissing.length, `good events not indexed, such as ${goodMissing.slice(0, 5).join(', ')}`).toBe(0);
      const letters = await readDeadLetters(kafka, config);
      expect(letters.filter((letter) => letter.key !== undefined && good.has(letter.key)).map((letter) => letter.headers.reason), 'good events dead-lettered').toEqual([]);

      // Each bad record to its end: its indexed document (by the preview's id) or its dead letters
      // (by its fresh uuid as key, its text as the value, or the event the value decodes to).
      const codec = createOktaEventCodec();
      const decodedId = (letter: DeadLetter): string | undefined => {
        try {
          return eventId(codec.decode(letter.value)).id;
        } catch {
          return undefined;
        }
      };
      const settled: Settled[] = bad.map((record) => {
        const shown = preview(record.text, indexPrefix);
        const id = shown?.ok ? shown.id : undefined;
        const event: unknown = isJson(record.text) ? JSON.parse(record.text) : undefined;
        const ownId = isPlainObject(event) ? eventId(event).id : undefined;
        const deadLetters = letters.filter(
          (letter) => (record.uuid !== undefined && letter.key === record.uuid) || letter.value.toString() === record.text || (ownId !== undefined && decodedId(letter) === ownId),
        );
        return { record, preview: shown, indexed: id !== undefined && indexed.has(id) ? id : undefined, deadLetters };
      });
      const sources = await documentsById(client, indexPrefix, settled.flatMap(({ indexed: id }) => (id === undefined ? [] : [id])));
      for (const outcome of settled) checkBadRecord(outcome, 'poll', sources);

      // Nothing else: every document is a good event or a bad one, every dead letter a bad one; the total adds up.
      const badIds = new Set(settled.flatMap(({ indexed: id }) => (id === undefined ? [] : [id])));
      expect(ids.filter((id) => !good.has(id) && !badIds.has(id)), 'documents of no served event').toEqual([]);
      const accounted = new Set(settled.flatMap(({ deadLetters }) => deadLetters));
      expect(letters.filter((letter) => !accounted.has(letter)).map((letter) => letter.headers), 'dead letters of no bad event').toEqual([]);
      expect(ids.length + letters.length, 'served = indexed + dead-lettered').toBe(served);
      expect(sink.stats()).toMatchObject({ indexed: ids.length, deadLettered: letters.filter((letter) => letter.headers.stage !== 'poll').length });
      console.info(`served ${served}: indexed ${ids.length}, dead-lettered ${letters.length} (${letters.map((letter) => `${letter.headers.stage}: ${letter.headers.reason?.slice(0, 60)}`).join('; ')})`);
    });
  });

  it(`import, normalize and the sink: one bad line of each kind among ${GOOD_BETWEEN.toLocaleString('en')} good lines of a file`, { timeout: 600_000 }, async () => {
    const seed = testSeed(8_000_9);
    await withSeed(seed, async () => {
      const bad = badRecords(seed.random, () => true, 'seeded-and-named');
      const generator = new EventGenerator(seed.seed);
      const from = Date.now() - DAY;
      const good = generator.generate(generator.spread(GOOD_BETWEEN, from, from + DAY - 60_000)).json;
      // The bad lines spread among the good ones, a blank line after the first; a byte order mark before the first line.
      const lines: string[] = [...good];
      bad.forEach((record, i) => lines.splice(Math.round(((i + 1) * GOOD_BETWEEN) / (bad.length + 1)) + i, 0, record.text));
      lines.splice(lines.indexOf((bad[0] as BadRecord).text) + 1, 0, '');
      const lineOf = new Map<string, number>(lines.map((text, i) => [text, i + 1]));
      const badLine = new Map(bad.map((record) => [lineOf.get(record.text) as number, record]));
      const goodLine = new Map(good.map((text) => [lineOf.get(text) as number, (JSON.parse(text) as { uuid: string }).uuid]));
      expect(badLine.size + goodLine.size, 'every line distinct').toBe(lines.length - 1);
      const { config, file, dir, indexPrefix } = pipelineConfig([]);
      const input = join(dir, 'hostile.ndjson');
      writeFileSync(input, `\ufeff${lines.join('\n')}\n`);
      console.info(`importing ${lines.length} lines: ${bad.length} bad ones (${[...badLine].map(([line, record]) => `${line} ${record.name}`).join(', ')})`);

      // import: exit 3 (some lines dead-lettered), every line counted.
      const imported = await runNode(['dist/cli/main.js', 'import', input, '--org', 'acme', '--config', file]);
      expect(imported.code, imported.stderr.slice(-3000)).toBe(EXIT_DEAD_LETTERED);
      const summary = /imported ([\d,]+) events? from .*?; ([\d,]+) lines? went to the dead-letter topic.*; 1 blank line skipped/.exec(imported.stderr);
      expect(summary, imported.stderr.slice(-3000)).not.toBeNull();
      const [importedCount, importDeadLettered] = [summary![1], summary![2]].map((count) => Number(count!.replaceAll(',', '')));
      expect(importedCount! + importDeadLettered!).toBe(good.length + bad.length);

      // normalize, the preview: every line a document on stdout, or its number and reason on stderr.
      const previewed = await runNode(['dist/cli/main.js', 'normalize', input, '--org', 'acme', '--config', file]);
      expect(previewed.code, previewed.stderr.slice(-3000)).toBe(1);
      const refusals = new Map([...previewed.stderr.matchAll(/^line (\d+): (.*)$/gm)].map(([, line, reason]) => [Number(line), reason as string]));
      const documents = previewed.stdout.split('\n').filter((text) => text !== '').map((text) => JSON.parse(text) as { metadata: { uid: string } });
      expect(documents.length + refusals.size, 'a document or a refusal for every line but the blank one').toBe(lines.length - 1);
      const previewOf = new Map<number, { document: { metadata: { uid: string } } } | { refusal: string }>();
      let nextDocument = 0;
      for (let line = 1; line <= lines.length; line++) {
        if (lines[line - 1] === '') continue;
        const refusal = refusals.get(line);
        previewOf.set(line, refusal === undefined ? { document: documents[nextDocument++]! } : { refusal });
      }
      for (const [line] of goodLine) expect(previewOf.get(line), `good line ${line} previews as a document`).toHaveProperty('document');

      // The sink, until everything committed is indexed or dead-lettered.
      const kafka = createKafka(config.kafka);
      const client = indexClient(indexPrefix);
      const sinkLog = logCollector();
      const metrics = createMetrics();
      const sink = await runSink(config, kafka, metrics, sinkLog.logger);
      const sinkEnded = settledFlag(sink.done);
      await untilDrained(config, metrics, sink, sinkLog.tail);
      expect(sinkEnded(), 'the sink is still running').toBe(false);

      // Every line to its one end, by line number: indexed under the preview's id, or dead-lettered with source.line.
      const indexed = await allDocuments(client, indexPrefix);
      const letters = await readDeadLetters(kafka, config);
      for (const letter of letters) expect(letter.headers['source.file'], JSON.stringify(letter.headers)).toBe(input);
      const lettersOf = (line: number) => letters.filter((letter) => letter.headers['source.line'] === String(line));
      const idOf = (line: number): string | undefined => {
        const shown = previewOf.get(line);
        return shown && 'document' in shown ? shown.document.metadata.uid : undefined;
      };
      for (const [line, uuid] of goodLine) {
        expect(idOf(line), `good line ${line}`).toBe(uuid);
        expect(indexed.has(uuid), `good line ${line} is indexed`).toBe(true);
        expect(lettersOf(line), `good line ${line} is not dead-lettered`).toEqual([]);
      }
      for (const [line, record] of badLine) {
        const id = idOf(line);
        const settled = { record, preview: preview(record.text, indexPrefix), indexed: id !== undefined && indexed.has(id) ? id : undefined, deadLetters: lettersOf(line) };
        checkBadRecord(settled, 'import', indexed);
        const shown = previewOf.get(line)!;
        // What the preview refuses never lands; the sink refuses it for the reason the preview gives.
        if ('refusal' in shown) {
          const [letter] = lettersOf(line);
          if (letter?.headers.stage === 'normalize') expect(shown.refusal, `line ${line}`).toBe(`${letter.headers.reason} (the sink dead-letters this event)`);
          else expect(letter?.headers.stage, `line ${line}, refused by the preview (${shown.refusal}), is refused by import`).toBe('import');
        }
      }
      // What the preview shows is what lands, for every line the sink indexed.
      for (const [line, shown] of previewOf) {
        if (!('document' in shown) || !indexed.has(shown.document.metadata.uid)) continue;
        expect(indexed.get(shown.document.metadata.uid), `line ${line}: the indexed document is the preview's`).toEqual(shown.document);
      }
      // Nothing else, and the total adds up.
      const ids = new Set([...previewOf.keys()].map(idOf));
      expect([...indexed.keys()].filter((id) => !ids.has(id)), 'documents of no line').toEqual([]);
      expect(letters.filter((letter) => !previewOf.has(Number(letter.headers['source.line']))).map((letter) => letter.headers), 'dead letters of no line').toEqual([]);
      expect(indexed.size + letters.length, 'lines = indexed + dead-lettered').toBe(good.length + bad.length);
      expect(letters.filter((letter) => letter.headers.stage === 'import')).toHaveLength(importDeadLettered!);
      expect(sink.stats()).toMatchObject({ indexed: indexed.size, deadLettered: letters.length - importDeadLettered! });
      console.info(`${lines.length} lines: indexed ${indexed.size}, dead-lettered ${letters.length} (${letters.map((letter) => `line ${letter.headers['source.line']} ${letter.headers.stage}: ${letter.headers.reason?.slice(0, 60)}`).join('; ')})`);
    });
  });
});
