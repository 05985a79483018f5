import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { readToEnd } from '../../src/kafka/read-to-end.js';
import type { SinkStats } from '../../src/sink/sink.js';
import { spawnCli, type ListeningProcess } from '../support/cli.js';
import { documentCount, documentIds, testIndexClient } from '../support/elasticsearch.js';
import { duplicates } from '../support/forwarder.js';
import { consumerLag, endOffsets, groupAssignment, total } from '../support/kafka-group.js';
import { freePorts } from '../support/net.js';
import { metricValue, readyz, scrapeMetrics } from '../support/scrape.js';
import { testSeed, withSeed } from '../support/seeded.js';
import { produceSimulatedEvents, sinkTestSetup } from '../support/sink.js';
import { waitFor } from '../support/wait.js';

const EVENTS = 50_000;
const PARTITIONS = 6;
const ALL_PARTITIONS = Array.from({ length: PARTITIONS }, (_, partition) => partition);

describe('two sink members in one consumer group', () => {
  it(`share ${EVENTS.toLocaleString('en')} events; when one is SIGKILLed mid-run the other takes its partitions and the count is exact`, { timeout: 300_000 }, async () => {
    const seed = testSeed(61);
    await withSeed(seed, async () => {
      const { config, env, file } = sinkTestSetup({ eventsPartitions: PARTITIONS });
      const { consumerGroup, topics } = config.kafka;
      const prefix = config.elasticsearch.indexPrefix;
      const uuids = await produceSimulatedEvents(config, EVENTS, seed.random.uint32());
      expect(new Set(uuids).size).toBe(EVENTS);
      const client = testIndexClient(prefix);
      const kafka = createKafka(config.kafka);

      const ports = await freePorts(2);
      // Each member names itself by its client id, which the group's description shows.
      const members: ListeningProcess[] = ['sink-a', 'sink-b'].map((name, i) => {
        const port = ports[i] as number;
        return { name, port, process: spawnCli(['sink', '--config', file], { ...env, KAFKA_CLIENT_ID: name, METRICS_PORT: String(port) }) };
      });
      const logs = () => members.map((m) => `--- ${m.name}:\n${m.process.output().slice(-1500)}`).join('\n');
      const stats = async (member: ListeningProcess) => (await readyz(member.port)).body.sink as SinkStats | undefined;

      // Both hold partitions, and both index.
      const shared = await waitFor(
        async () => {
          const group = await groupAssignment(kafka, consumerGroup, topics.events);
          const held = members.map((m) => group.members.get(m.name) ?? []);
          return group.state === 'Stable' && held.every((partitions) => partitions.length > 0) ? held : undefined;
        },
        () => `both members to hold partitions\n${logs()}`,
        90_000,
      );
      expect(shared.flat().sort((a, b) => a - b)).toEqual(ALL_PARTITIONS);
      await waitFor(async () => (await Promise.all(members.map(stats))).every((s) => (s?.indexed ?? 0) > 0), () => `both members to index\n${logs()}`, 90_000);

      // One of them dies at a seeded moment, with the index part filled.
      const victimIndex = seed.random.int(0, 1);
      const victim = members[victimIndex] as ListeningProcess;
      const survivor = members[1 - victimIndex] as ListeningProcess;
      await sleep(seed.random.int(0, 2000));
      const victimStats = await stats(victim);
      victim.process.child.kill('SIGKILL');
      expect(await victim.process.exited, `${victim.name} ended by itself before the kill\n${logs()}`).toBeNull();
      const atKill = await documentCount(client, prefix);
      console.info(`killed ${victim.name} (holding partitions ${shared[victimIndex]?.join(', ')}; its own account ${JSON.stringify(victimStats)}) with ${atKill} documents indexed`);
      expect(atKill, 'the kill came before the end of the run').toBeLessThan(EVENTS);

      // The survivor takes the dead member's partitions once its session expires.
      await waitFor(
        async () => {
          const group = await groupAssignment(kafka, consumerGroup, topics.events);
          return group.state === 'Stable' && group.members.size === 1 && String(group.members.get(survivor.name)) === String(ALL_PARTITIONS);
        },
        () => `${survivor.name} to hold all ${PARTITIONS} partitions\n${logs()}`,
        60_000,
      );
      expect(survivor.process.running(), logs()).toBe(true);

      // Every uuid once, the group at the end of the topic, the survivor's own lag metric at 0.
      await waitFor(async () => (await documentCount(client, prefix)) === EVENTS, () => `all ${EVENTS} documents\n${logs()}`, 180_000);
      let lag = new Map<number, number>();
      await waitFor(
        async () => [...(lag = await consumerLag(kafka, consumerGroup, topics.events)).values()].every((records) => records === 0),
        () => `the group to commit the end of every partition (lag by partition: ${JSON.stringify([...lag])})`,
        60_000,
      );
      expect([...lag.keys()].sort()).toEqual(ALL_PARTITIONS);
      expect(total(await endOffsets(kafka, topics.events))).toBe(EVENTS);
      await waitFor(
        async () => {
          const metrics = await scrapeMetrics(survivor.port);
          const lags = ALL_PARTITIONS.map((partition) => metricValue(metrics, 'okta_forwarder_sink_consumer_lag', { topic: topics.events, partition: String(partition) }));
          return metrics.includes('okta_forwarder_sink_consumer_lag{') && lags.every((lag) => lag === 0);
        },
        `${survivor.name} to report a consumer lag of 0 on every partition`,
        30_000,
      );
      survivor.process.child.kill('SIGTERM');
      expect(await survivor.process.exited, logs()).toBe(0);

      // The index holds each produced uuid once (the _id is the uuid), and nothing else.
      const ids = await documentIds(client, prefix);
      expect(duplicates(ids)).toEqual([]);
      expect(ids.sort()).toEqual(uuids.sort());
      let deadLetters = 0;
      await readToEnd(kafka, topics.deadLetter, () => (deadLetters += 1));
      expect(deadLetters).toBe(0);
    });
  });
});
