import { Kafka } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { kafkaClientConfig, createKafka } from '../../src/kafka/client.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { startPollers, type RunningPollers } from '../../src/poller/run.js';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { Random } from '../../src/simulator/random.js';
import { responseLosingSockets, type NetworkFaults } from '../support/faulty-kafka.js';
import { duplicates, readPublishedEvents, writeTestConfig } from '../support/forwarder.js';
import { uniqueName, waitFor } from '../support/wait.js';

const DAY = 86_400_000;
const FAST_RETRY = {
  unreachable: { initialMs: 20, maxMs: 100, multiplier: 2 },
  needsOperator: { initialMs: 50, maxMs: 200, multiplier: 2 },
  kafka: { initialMs: 50, maxMs: 400, multiplier: 2 },
};
/** Replay a failure with OKTA_FORWARDER_TEST_SEED=<the seed in its message>. */
const SEED = Number(process.env.OKTA_FORWARDER_TEST_SEED ?? 20261206);

interface PollProcess {
  name: string;
  pollers: RunningPollers;
  faults: NetworkFaults;
  ended?: string;
}

describe('pollers of one org overlapping, as in a rolling update or a restart loop', () => {
  let sim: SimulatorHandle | undefined;
  const live = new Set<PollProcess>();
  afterEach(async () => {
    await Promise.all([...live].map((instance) => instance.pollers.stop()));
    live.clear();
    await sim?.close();
  });

  it('ends with every uuid exactly once and no gap, through fencing and responses lost mid-transaction', { timeout: 400_000 }, async () => {
    const random = new Random(SEED);
    const context = `seed ${SEED}`;
    const EVENTS = 60_000;
    const token = uniqueName('token');
    sim = await startSimulator({ apiTokens: [token], rateLimitPerMinute: Infinity, seed: SEED });
    sim.generate(EVENTS, { from: Date.now() - 20 * DAY, to: Date.now() - 60_000 });
    // Slow pages stretch the backfill over the overlaps.
    sim.injectFaults('slow', 1_000_000, { delayMs: 40 });
    const { config } = writeTestConfig([{ id: 'acme', domain: sim.domain, token }]);
    const log: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void log.push(line) } });

    const ends: string[] = [];
    let started = 0;
    let chaos = true;
    const landed: Record<string, number> = {};
    const seen: Record<string, number> = {};
    const tally = (faults: NetworkFaults) => {
      for (const [api, count] of Object.entries(faults.landed)) landed[api] = (landed[api] ?? 0) + count;
      for (const [api, count] of Object.entries(faults.seen)) seen[api] = (seen[api] ?? 0) + count;
    };
    const start = async (): Promise<PollProcess> => {
      started += 1;
      const name = `process ${started}`;
      // Each process loses responses to its own requests: after the produce, the commit or the
      // abort reached the broker, which acted on it, the client hears nothing.
      const faults = responseLosingSockets({ seed: random.uint32(), rates: { Produce: 0.1, EndTxn: 0.1, AddPartitionsToTxn: 0.03, InitProducerId: 0.03 } });
      const kafka = new Kafka({ ...kafkaClientConfig(config.kafka, logger), socketFactory: faults.socketFactory });
      const pollers = await startPollers({ config, assignment: 'every-org', kafka, logger, metrics: createMetrics(), overrides: { retry: FAST_RETRY } });
      const instance: PollProcess = { name, pollers, faults };
      live.add(instance);
      pollers.done.then(
        () => (instance.ended = 'stopped'),
        (err: Error) => (instance.ended = `failed: ${err.message}`),
      ).finally(() => {
        live.delete(instance);
        ends.push(`${instance.name} ${instance.ended}`);
        tally(faults);
        // A supervisor starts a failed process again; once the chaos is over, one is enough.
        if (chaos || live.size === 0) setTimeout(() => void start(), random.int(1000, 5000));
      });
      return instance;
    };

    // Overlaps for the first 45 s: processes start every 1-4 s, sometimes two at the same moment;
    // each start fences the running ones, often in the middle of a transaction. Responses keep
    // being lost until the end.
    await Promise.all([start(), start()]);
    const chaosEnds = Date.now() + 45_000;
    while (Date.now() < chaosEnds) {
      await new Promise((resolve) => setTimeout(resolve, random.int(1000, 4000)));
      await (random.chance(0.3) ? Promise.all([start(), start()]) : start());
    }
    chaos = false;
    await waitFor(() => [...live].some((instance) => instance.pollers.handles.get('acme')?.stats().progress?.caughtUp), `a poller to catch up (${context})`, 240_000).catch((err: Error) => {
      throw new Error(`${err.message}; ends: ${ends.join(' | ')}; last log lines: ${log.slice(-15).join('')}`);
    });
    for (const instance of [...live]) {
      tally(instance.faults);
      await instance.pollers.stop();
    }

    const published = await readPublishedEvents(createKafka(config.kafka), config);
    const uuids = published.map((event) => event.uuid);
    const missing = sim.eventCount - new Set(uuids).size;
    const diagnosis = `${context}; ${started} processes; requests ${JSON.stringify(seen)}, faults landed ${JSON.stringify(landed)}; ends: ${ends.slice(0, 40).join(' | ')}; log: ${log.slice(0, 20).join('')}`;
    process.stderr.write(`poller overlap: ${context}; ${started} processes; ${ends.filter((end) => /took over/.test(end)).length} fenced; requests ${JSON.stringify(seen)}, lost responses ${JSON.stringify(landed)}\n`);
    expect(missing, `events missing from Kafka (${diagnosis})`).toBe(0);
    expect(duplicates(uuids), `duplicated uuids (${diagnosis})`).toEqual([]);
    expect(published).toHaveLength(EVENTS);
    // The faults landed where they matter: overlapping processes fenced each other, and responses
    // to produce and commit requests were lost.
    expect(ends.filter((end) => /another poller took over/.test(end)).length, diagnosis).toBeGreaterThan(5);
    expect((landed.Produce ?? 0) + (landed.EndTxn ?? 0), diagnosis).toBeGreaterThan(3);
  });
});
