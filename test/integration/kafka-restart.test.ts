import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { logSummary, spawnCli, type ListeningProcess } from '../support/cli.js';
import { documentCount, documentIds, testIndexClient } from '../support/elasticsearch.js';
import { duplicates, readPublishedEvents, writeTestConfig } from '../support/forwarder.js';
import { freePorts } from '../support/net.js';
import { hasJvmTools, startOwnKafka } from '../support/own-kafka.js';
import { metricValue, readyz, scrapeMetrics, type Readyz } from '../support/scrape.js';
import { testSeed, withSeed } from '../support/seeded.js';
import { sinkTestSetup } from '../support/sink.js';
import { uniqueName, waitFor } from '../support/wait.js';

const DAY = 86_400_000;
const EVENTS = 40_000;

/** One answer of a process's /readyz while the broker was down (or why there was none). */
interface ReadinessSample {
  service: string;
  /** Ms since the broker was stopped. */
  atMs: number;
  status: number | 'no answer';
  text: string;
}

/** A /readyz answer that says: not ready, and why: Kafka. */
function waitsForKafka(sample: ReadinessSample): boolean {
  return sample.status === 503 && /kafka/i.test(sample.text);
}

/** What a service went through: its log in short, then its last lines. */
function account(service: ListeningProcess): string {
  const output = service.process.output();
  return `--- ${service.name}, what it logged:\n${logSummary(output)}\n--- ${service.name}, its last lines:\n${output.slice(-2000)}`;
}

/** Rejects as soon as one of the services exits, with its exit code and its account. */
function exitOfAny(services: ListeningProcess[]): Promise<never> {
  return Promise.race(
    services.map((service) =>
      service.process.exited.then((code) => {
        throw new Error(`${service.name} exited with code ${code} while it should have waited for Kafka\n${account(service)}`);
      }),
    ),
  );
}

const VARIANTS = [
  { signal: 'SIGTERM', commands: [['poll'], ['sink']], seed: 71 },
  { signal: 'SIGKILL', commands: [['run']], seed: 72 },
] as const;

describe.skipIf(!hasJvmTools)('the Kafka broker restarted while the poller produces and the sink consumes', () => {
  let sim: SimulatorHandle | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  for (const variant of VARIANTS) {
    const commands = variant.commands.map((command) => command.join(' ')).join(' and ');
    it(`${commands}: stopped with ${variant.signal} for 10-20 s, the processes wait, say so on /readyz, and every uuid lands once`, { timeout: 280_000 }, async () => {
      const seed = testSeed(variant.seed);
      await withSeed(seed, async () => {
        const broker = await startOwnKafka();
        const token = uniqueName('token');
        sim = await startSimulator({ apiTokens: [token], rateLimitPerMinute: Infinity, seed: seed.random.uint32() });
        const generated = sim.generate(EVENTS, { from: Date.now() - 30 * DAY, to: Date.now() - 60_000 });
        // Slow pages stretch the backfill over the outage.
        sim.injectFaults('slow', 1_000_000, { delayMs: 250 });

        // The org from a configuration file; brokers, topics, group and index prefix from the environment.
        const { env } = sinkTestSetup({ brokers: broker.brokers });
        const { file } = writeTestConfig([{ id: 'acme', domain: sim.domain, token }]);
        const config = loadConfig({ file, env }).config;
        const prefix = config.elasticsearch.indexPrefix;
        const client = testIndexClient(prefix);
        const ports = await freePorts(variant.commands.length);
        const services: ListeningProcess[] = variant.commands.map((command, i) => {
          const port = ports[i] as number;
          return { name: command.join(' '), port, process: spawnCli([...command, '--config', file], { ...env, METRICS_PORT: String(port) }) };
        });
        const poller = services[0] as ListeningProcess;
        const logs = () => `${services.map(account).join('\n')}\n--- broker:\n${broker.logTail(15)}`;
        const exited = exitOfAny(services);
        exited.catch(() => undefined);
        const untilExit = <T>(work: Promise<T>) => Promise.race([work, exited]);

        // Under way: events published and indexed, the backfill far from done.
        const published = async () => metricValue(await scrapeMetrics(poller.port), 'okta_forwarder_events_published_total', { org: 'acme' });
        await untilExit(waitFor(async () => (await published()) >= 3_000 && (await documentCount(client, prefix)) >= 1_000, () => `the pipeline to get under way\n${logs()}`, 120_000));
        await sleep(seed.random.int(0, 2000));

        const outageMs = seed.random.int(10_000, 20_000);
        await broker.stop(variant.signal);
        const stoppedAt = Date.now();
        const publishedAtStop = await published();
        console.info(`broker stopped with ${variant.signal} for ${outageMs} ms, ${publishedAtStop} events published`);
        // /readyz of each process, every 500 ms, until the broker is back: the outage, then its start.
        const samples: ReadinessSample[] = [];
        let brokerBack = false;
        const sampling = (async () => {
          while (!brokerBack) {
            for (const service of services) {
              const answer: Readyz | undefined = await readyz(service.port).catch(() => undefined);
              samples.push({ service: service.name, atMs: Date.now() - stoppedAt, status: answer?.status ?? 'no answer', text: answer?.text.trim() ?? '' });
            }
            await sleep(500);
          }
        })();
        await sleep(outageMs);
        // From here the broker is starting: a process may see it answer before start() does.
        const restartingAtMs = Date.now() - stoppedAt;
        await broker.start().finally(() => (brokerBack = true));
        await sampling;
        console.info(`broker started again after ${Date.now() - stoppedAt} ms`);
        const described = (list: ReadinessSample[]) => list.map((s) => `${s.service} +${s.atMs} ms: ${s.status} ${s.text}`).join('\n');

        // Each process stayed up through the outage, its listener answering…
        expect.soft(publishedAtStop, 'the backfill was still under way when the broker stopped').toBeLessThan(EVENTS);
        for (const service of services) {
          expect.soft(service.process.running(), `${service.name} stayed up through the outage\n${logs()}`).toBe(true);
          const own = samples.filter((sample) => sample.service === service.name);
          expect.soft(own.filter((sample) => sample.status === 'no answer'), `${service.name}: /readyz unanswered while the broker was down`).toEqual([]);
          // …said on /readyz, once it noticed, that it is not ready and waits for Kafka, and kept saying so while the broker was
          // down (until it was started again: it may answer a process before the start's own probe says it is ready).
          const noticed = own.findIndex(waitsForKafka);
          expect.soft(noticed, `${service.name}: no /readyz answer was 503 naming Kafka while the broker was down\n${described(own)}`).toBeGreaterThanOrEqual(0);
          const whileDown = own.slice(Math.max(0, noticed)).filter((sample) => sample.atMs < restartingAtMs);
          if (noticed >= 0) expect.soft(whileDown.filter((sample) => !waitsForKafka(sample)), `${service.name}: /readyz answers after it noticed the outage, the broker still down, that are not 503 naming Kafka\n${described(own)}`).toEqual([]);
        }

        // Back to work by itself: every uuid once in Kafka (read_committed) and in Elasticsearch.
        const kafka = createKafka(config.kafka);
        const now = { documents: 0, published: 0 };
        const allIndexed = async () => {
          now.published = await published().catch(() => now.published);
          now.documents = await documentCount(client, prefix);
          return now.documents >= EVENTS;
        };
        await untilExit(waitFor(allIndexed, () => `all ${EVENTS} documents after the restart (${JSON.stringify(now)}; ${publishedAtStop} published before the outage)\n${logs()}`, 150_000));
        for (const service of services) {
          await untilExit(waitFor(async () => (await readyz(service.port)).status === 200, () => `${service.name} to be ready again\n${logs()}`, 60_000));
        }
        const inKafka = (await readPublishedEvents(kafka, config)).map((event) => event.uuid);
        const expected = generated.map((event) => event.uuid).sort();
        expect(duplicates(inKafka), 'uuids twice in Kafka').toEqual([]);
        expect(inKafka.sort(), 'uuids in Kafka').toEqual(expected);
        const inIndex = await documentIds(client, prefix);
        expect(duplicates(inIndex), 'uuids twice in Elasticsearch').toEqual([]);
        expect(inIndex.sort(), 'uuids in Elasticsearch').toEqual(expected);

        for (const service of services) service.process.child.kill('SIGTERM');
        for (const service of services) expect(await service.process.exited, `${service.name} stopping\n${logs()}`).toBe(0);
      });
    });
  }
});
