import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { AssignerProtocol, type Consumer, type PartitionAssigner } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type ForwarderConfig } from '../../src/config/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { encodeMemberInfo } from '../../src/kafka/poller-group.js';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import type { ClusterStatus, ProcessStatus } from '../../src/status/report.js';
import { logSummary, runCli, spawnCli } from '../support/cli.js';
import { writeTestConfig } from '../support/forwarder.js';
import { freePort } from '../support/net.js';
import { elasticsearchEndpoint } from '../support/stack.js';
import { uniqueName, waitFor } from '../support/wait.js';

const EVENTS = 300;

/** The test's config file with its own poller group, pollers topic and sink group, changed by `change`, written next to it. */
function variant(file: string, name: string, change: (config: Record<string, any>) => void): string {
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
  change(config);
  const path = join(file, '..', `${name}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

async function processStatus(port: number): Promise<ProcessStatus | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/status`);
    return response.status === 200 ? ((await response.json()) as ProcessStatus) : undefined;
  } catch {
    return undefined; // not listening yet
  }
}

/**
 * A member of the poller group holding every slot, as a poll process of the HA poller does:
 * `status` reads who holds an org from the group coordinator, whoever the member is.
 */
async function holdAllSlots(config: ForwarderConfig, processName: string): Promise<Consumer> {
  const topic = config.kafka.topics.pollers;
  const assigner: PartitionAssigner = ({ cluster }) => ({
    name: 'status-test-all-slots',
    version: 1,
    async assign({ members }) {
      await cluster.refreshMetadata();
      const slots = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
      return members.map((member, index) => ({
        memberId: member.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: index === 0 ? { [topic]: slots } : {}, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return { name: 'status-test-all-slots', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: encodeMemberInfo({ process: processName, slots: [] }) }) };
    },
  });
  const consumer = createKafka(config.kafka).consumer({ groupId: config.kafka.pollerGroup, partitionAssigners: [assigner] });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topic });
  await consumer.run({ eachMessage: async () => undefined });
  await joined;
  return consumer;
}

describe('okta-forwarder status and /status', () => {
  let sim: SimulatorHandle | undefined;
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
    await sim?.close();
  });

  it('shows every org from a running process and from Kafka and Elasticsearch alone, and exits non-zero when something needs attention', { timeout: 90_000 }, async () => {
    const token = uniqueName('token');
    sim = await startSimulator({ apiTokens: [token], rateLimitPerMinute: Infinity });
    sim.generate(EVENTS, { from: Date.now() - 3_600_000, to: Date.now() - 1000 });
    const es = elasticsearchEndpoint();
    const prefix = uniqueName('it-status');
    const metricsPort = await freePort();
    const written = writeTestConfig([{ id: 'acme', domain: sim.domain, token }], {
      metricsPort,
      elasticsearch: { nodes: [es.url], auth: { username: es.username }, indexPrefix: prefix },
    });
    const file = variant(written.file, 'status', (config) => {
      config.kafka.pollerGroup = uniqueName('it-pollers');
      config.kafka.consumerGroup = uniqueName('it-sink');
      config.kafka.topics.pollers = uniqueName('it-pollers-topic');
    });
    const env = { ELASTICSEARCH_PASSWORD: es.password };
    const { config } = loadConfig({ file, env });
    const client = new Client({ node: es.url, auth: { username: es.username, password: es.password } });
    cleanup.push(() => client.close(), () => client.indices.delete({ index: `${prefix}-*` }));

    // A running `run`: its /status shows the org it polls, from its own poller, and its sink.
    const run = spawnCli(['run', '--config', file], env);
    const first = await waitFor(() => processStatus(metricsPort), '/status of the run process', 20_000);
    expect(first.command).toBe('run');
    expect(first.process).toBe(`${first.process.split('/')[0]}/${run.child.pid}`);
    const live = await waitFor(
      async () => {
        const status = await processStatus(metricsPort);
        const acme = status?.orgs.find((org) => org.org === 'acme');
        return acme?.state === 'connected' && acme.events === EVENTS && status?.sink?.indexed === EVENTS && status.sink.partitions.length === 3 ? status : undefined;
      },
      () => `acme connected with every event indexed; output: ${logSummary(run.output())}`,
      45_000,
    );
    const acme = live.orgs[0]!;
    expect(acme).toMatchObject({ owner: live.process, attention: false, backfill: { caughtUp: true, ratio: 1 } });
    expect(acme.pollLagSeconds).toBeLessThan(3_600);
    expect(acme.rateLimit?.share).toBe(1);
    expect(live.elasticsearch).toMatchObject({ state: 'indexing', attention: false });
    expect(Date.parse(live.sink?.readAt ?? '')).toBeGreaterThan(Date.parse(live.startedAt));
    expect(live.attention).toEqual([]);
    run.child.kill('SIGTERM');
    expect(await run.exited, logSummary(run.output())).toBe(0);

    // No forwarder runs now. An org with a checkpoint that no poller holds, and one never polled: exit 4, each with its reason.
    const twoOrgs = variant(file, 'two-orgs', (c) => c.okta.orgs.push({ ...c.okta.orgs[0], id: 'globex', domain: 'globex.example.com' }));
    const unowned = await runCli(['status', '--config', twoOrgs], env);
    expect(unowned.code, unowned.stderr).toBe(4);
    expect(unowned.stdout).toMatch(/^acme\s+no owner\s.*\s+none\s+\S+\s+\S+\s+300\s/m);
    expect(unowned.stdout).toMatch(/^globex\s+not started\s/m);
    expect(unowned.stdout).toContain('reason: no poller holds it; its last checkpoint was committed');
    expect(unowned.stdout).toContain('what to do: start `okta-forwarder poll`');
    expect(unowned.stdout).toMatch(/Needs attention:\n {2}- acme: no owner\n {2}- globex: not started/);

    // A poller holds every slot: all is well, exit 0; the table and --json agree with the run's own view.
    const holder = await holdAllSlots(config, 'status-test/1');
    cleanup.push(() => holder.disconnect());
    const well = await runCli(['status', '--config', file, '--json'], env);
    expect(well.code, well.stdout + well.stderr).toBe(0);
    const cluster = JSON.parse(well.stdout) as ClusterStatus & { attention: string[] };
    expect(cluster.orgs).toHaveLength(1);
    expect(cluster.orgs[0]).toMatchObject({ org: 'acme', state: 'connected', owner: 'status-test/1', newestEvent: acme.newestEvent, events: EVENTS, attention: false });
    expect(cluster.sink).toMatchObject({ totalLag: 0, attention: false });
    expect(cluster.sink.partitions.map((p) => p.lag)).toEqual([0, 0, 0]);
    expect(cluster.elasticsearch).toMatchObject({ documentsLast24h: EVENTS, documentsLast24hByOrg: { acme: EVENTS }, attention: false });
    expect(cluster.attention).toEqual([]);
    const table = await runCli(['status', '--config', file], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^acme\s+connected\s.*status-test\/1/m);
    expect(table.stdout).toContain('All is well.');
    expect(table.stdout).not.toContain(es.password);

    // Elasticsearch unreachable: still a status, exit 4 with what to do.
    const deadPort = await freePort();
    const noElasticsearch = variant(file, 'no-es', (c) => (c.elasticsearch.nodes = [`http://127.0.0.1:${deadPort}`]));
    const down = await runCli(['status', '--config', noElasticsearch], env);
    expect(down.code).toBe(4);
    expect(down.stdout).toMatch(/^Elasticsearch: unreachable/m);
    expect(down.stdout).toContain('  - elasticsearch: unreachable');

    // Kafka unreachable: nothing can be said; one line, no stack, exit 1.
    const noKafka = variant(file, 'no-kafka', (c) => (c.kafka.brokers = [`127.0.0.1:${deadPort}`]));
    const unreachable = await runCli(['status', '--config', noKafka], env);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stdout).toBe('');
    expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);
    expect(unreachable.stderr).toMatch(/^okta-forwarder: reading the status from Kafka \(127\.0\.0\.1:\d+\): .*check kafka\.brokers/);
  });

  it('/status answers before the dependencies do', { timeout: 30_000 }, async () => {
    const metricsPort = await freePort();
    const deadPort = await freePort();
    const written = writeTestConfig([{ id: 'acme', domain: '127.0.0.1:9', token: 'x' }], { metricsPort });
    const file = variant(written.file, 'dead-kafka', (c) => (c.kafka.brokers = [`127.0.0.1:${deadPort}`]));
    const sink = spawnCli(['sink', '--config', file]);
    // Kafka never answers: whatever /status says, it says it while the process starts.
    const status = await waitFor(() => processStatus(metricsPort), () => `/status of the starting sink; output: ${logSummary(sink.output())}`, 20_000);
    expect(status).toMatchObject({ command: 'sink', starting: true, orgs: [], attention: [] });
    expect(status.process).toMatch(new RegExp(`/${sink.child.pid}$`));
  });
});
