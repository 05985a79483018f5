import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportPKCS8, exportJWK, generateKeyPair } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { PagePublisher } from '../../src/kafka/publisher.js';
import { encodeEvent } from '../../src/kafka/messages.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { startPollers, type RunningPollers } from '../../src/poller/run.js';
import { RETRY_POLICIES } from '../../src/retry.js';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { duplicates, readCheckpointHistory, readPublishedEvents, writeTestConfig } from '../support/forwarder.js';
import { tempDir } from '../support/temp.js';
import { uniqueName, waitFor } from '../support/wait.js';

const DAY = 86_400_000;
/** Retries at test speed: the behaviour is the same, the waits are not. */
const FAST_RETRY = {
  unreachable: { initialMs: 20, maxMs: 100, multiplier: 2 },
  needsOperator: { initialMs: 50, maxMs: 200, multiplier: 2 },
  kafka: { initialMs: 50, maxMs: 500, multiplier: 2 },
};

const quietLogger = () => createLogger({ level: 'warn', destination: { write: () => undefined } });

describe('the poller against the Okta simulator and the real Kafka', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function simulator(options: Parameters<typeof startSimulator>[0] = {}): Promise<SimulatorHandle> {
    const sim = await startSimulator(options);
    cleanups.push(() => sim.close());
    return sim;
  }

  async function run(config: ReturnType<typeof writeTestConfig>['config'], metrics = createMetrics()): Promise<RunningPollers> {
    const pollers = await startPollers({ config, assignment: 'every-org', kafka: createKafka(config.kafka), logger: quietLogger(), metrics, overrides: { retry: FAST_RETRY } });
    cleanups.push(() => pollers.stop());
    return pollers;
  }

  it('publishes 100,000 events exactly once through 429s, 5xx, HTML errors, resets and late events, and checkpoints the last next link', async () => {
    const token = uniqueName('token');
    const sim = await simulator({ apiTokens: [token], rateLimitPerMinute: 40, rateLimitWindowSeconds: 2, seed: 7 });
    const now = Date.now();
    sim.generate(95_000, { from: now - 59 * DAY, to: now - 60_000 });
    const { config } = writeTestConfig([{ id: 'acme', domain: sim.domain, token }]);
    const kafka = createKafka(config.kafka);
    const pollers = await run(config);
    const handle = pollers.handles.get('acme')!;

    // Faults while the backfill runs, then late-persisted events once it has made progress.
    sim.injectFaults('server-error', 3);
    await waitFor(() => handle.stats().events > 10_000, 'the first 10,000 events');
    sim.injectFaults('rate-limit', 2);
    sim.injectFaults('html', 2);
    sim.injectFaults('reset', 1);
    await waitFor(() => handle.stats().events > 50_000, '50,000 events');
    sim.injectFaults('slow', 2, { delayMs: 300 });
    sim.generate(5_000, { from: now - 30 * DAY, to: now - 60_000, lateMs: 10 * DAY });

    await waitFor(() => handle.stats().events === 100_000 && handle.stats().progress?.caughtUp, 'all 100,000 events, caught up', 240_000);
    await pollers.stop();

    const published = await readPublishedEvents(kafka, config);
    expect(published).toHaveLength(100_000);
    expect(duplicates(published.map((p) => p.uuid))).toEqual([]);
    expect(new Set(published.map((p) => p.uuid)).size).toBe(sim.eventCount);
    expect(published.every((p) => p.org === 'acme')).toBe(true);
    // The faults really happened.
    const statuses = sim.requests.map((request) => request.status);
    expect(statuses).toEqual(expect.arrayContaining([429, 500]));

    // The last checkpoint is a next link Okta (the simulator) issued, and it points past every event.
    const checkpoints = await readCheckpointHistory(kafka, config);
    const last = checkpoints.at(-1)!;
    expect(last.events).toBe(100_000);
    expect(new URL(last.nextUrl).searchParams.get('after')).toBeTruthy();
    const tail = await fetch(last.nextUrl, { headers: { authorization: `SSWS ${token}` } });
    expect(await tail.json()).toEqual([]);
  });

  it('notices a fixed token file at once, not at the end of the operator backoff (15-30 s, then longer)', async () => {
    const [oldToken, newToken] = [uniqueName('old-token'), uniqueName('new-token')];
    const sim = await simulator({ apiTokens: [oldToken], rateLimitPerMinute: Infinity });
    sim.generate(1_000, { from: Date.now() - DAY, to: Date.now() - 60_000 });
    const { config, tokenFiles } = writeTestConfig([{ id: 'acme', domain: sim.domain, token: oldToken }]);
    // The real pacing for an operator's problem: the first wait alone is 15 to 30 s.
    const pollers = await startPollers({ config, assignment: 'every-org', kafka: createKafka(config.kafka), logger: quietLogger(), metrics: createMetrics(), overrides: { retry: { ...FAST_RETRY, needsOperator: RETRY_POLICIES.needsOperator } } });
    cleanups.push(() => pollers.stop());
    const handle = pollers.handles.get('acme')!;
    await waitFor(() => handle.stats().progress?.caughtUp, 'the first backfill');
    sim.revokeToken(oldToken);
    sim.generate(500, { from: Date.now() - 30_000, to: Date.now() });
    await waitFor(() => handle.stats().state === 'unauthorized', 'the unauthorized state');

    sim.addToken(newToken);
    writeFileSync(tokenFiles.acme!, `${newToken}\n`);
    const fixedAt = Date.now();
    await waitFor(() => handle.stats().events === 1_500 && handle.stats().state === 'connected', 'recovery with the new token', 60_000);
    // Well before the shortest operator backoff (15 s) could have ended.
    expect(Date.now() - fixedAt).toBeLessThan(10_000);
  });

  it('becomes unauthorized when the token is revoked, keeps running, and recovers when the token file is fixed', async () => {
    const oldToken = uniqueName('old-token');
    const newToken = uniqueName('new-token');
    const sim = await simulator({ apiTokens: [oldToken], rateLimitPerMinute: Infinity });
    sim.generate(3_000, { from: Date.now() - 2 * DAY, to: Date.now() - 60_000 });
    const { config, tokenFiles } = writeTestConfig([{ id: 'acme', domain: sim.domain, token: oldToken }]);
    const metrics = createMetrics();
    const pollers = await run(config, metrics);
    const handle = pollers.handles.get('acme')!;
    await waitFor(() => handle.stats().progress?.caughtUp, 'the first backfill');

    sim.revokeToken(oldToken);
    sim.generate(2_000, { from: Date.now() - 60_000, to: Date.now() });
    await waitFor(() => handle.stats().state === 'unauthorized', 'the unauthorized state');
    const states = await metrics.registry.getSingleMetricAsString('okta_forwarder_connector_state');
    expect(states).toContain('okta_forwarder_connector_state{org="acme",state="unauthorized"} 1');
    let settled = false;
    void pollers.done.finally(() => (settled = true));
    expect(settled).toBe(false);

    sim.addToken(newToken);
    writeFileSync(tokenFiles.acme!, `${newToken}\n`);
    await waitFor(() => handle.stats().events === 5_000 && handle.stats().state === 'connected', 'recovery with the new token', 60_000);
    const published = await readPublishedEvents(createKafka(config.kafka), config);
    expect(published).toHaveLength(5_000);
    expect(duplicates(published.map((p) => p.uuid))).toEqual([]);
  });

  it('runs several orgs in one process, each with its own cursor, events and metric labels', async () => {
    const [tokenA, tokenB] = [uniqueName('a'), uniqueName('b')];
    const simA = await simulator({ apiTokens: [tokenA], rateLimitPerMinute: Infinity });
    const simB = await simulator({ apiTokens: [tokenB], rateLimitPerMinute: Infinity });
    simA.generate(2_500, { from: Date.now() - DAY, to: Date.now() - 1000 });
    simB.generate(1_200, { from: Date.now() - DAY, to: Date.now() - 1000 });
    const { config } = writeTestConfig([
      { id: 'alpha', domain: simA.domain, token: tokenA },
      { id: 'beta', domain: simB.domain, token: tokenB },
    ]);
    const metrics = createMetrics();
    const pollers = await run(config, metrics);
    await waitFor(
      () => pollers.handles.get('alpha')!.stats().events === 2_500 && pollers.handles.get('beta')!.stats().events === 1_200,
      'both orgs',
    );
    await pollers.stop();
    const kafka = createKafka(config.kafka);
    const published = await readPublishedEvents(kafka, config);
    expect(published.filter((p) => p.org === 'alpha')).toHaveLength(2_500);
    expect(published.filter((p) => p.org === 'beta')).toHaveLength(1_200);
    const checkpoints = await readCheckpointHistory(kafka, config);
    expect(new Set(checkpoints.map((c) => c.org))).toEqual(new Set(['alpha', 'beta']));
    expect(checkpoints.filter((c) => c.org === 'alpha').every((c) => c.nextUrl.startsWith(simA.url))).toBe(true);
    const fetched = await metrics.registry.getSingleMetricAsString('okta_forwarder_events_published_total');
    expect(fetched).toContain('okta_forwarder_events_published_total{org="alpha"} 2500');
    expect(fetched).toContain('okta_forwarder_events_published_total{org="beta"} 1200');
  });

  /**
   * Polls an org until it caught up with its `history`, then restarts the org on the same port with
   * the same history and `fresh` new events, its cursors signed with a new secret: the saved cursor
   * is rejected. Checks that the poller recovers with every event exactly once; returns its metrics.
   */
  async function afterRejectedCursor(seed: number, history: (sim: SimulatorHandle) => void, fresh: number) {
    const token = uniqueName('token');
    const first = await simulator({ apiTokens: [token], rateLimitPerMinute: Infinity, seed });
    history(first);
    const { config } = writeTestConfig([{ id: 'acme', domain: first.domain, token }]);
    const before = await run(config);
    await waitFor(() => before.handles.get('acme')!.stats().progress?.caughtUp, 'the first backfill');
    const backfilled = before.handles.get('acme')!.stats().events;
    await before.stop();
    const port = Number(first.domain.split(':')[1]);
    await first.close();

    const second = await simulator({ apiTokens: [token], rateLimitPerMinute: Infinity, seed, port });
    history(second);
    second.generate(fresh, { from: Date.now() - 5 * 60_000, to: Date.now() - 1000 });
    const metrics = createMetrics();
    const after = await run(config, metrics);
    const handle = after.handles.get('acme')!;
    await waitFor(() => handle.stats().events === backfilled + fresh, () => `the ${fresh} new events after recovery; poller ${JSON.stringify(handle.stats())}`, 60_000);
    expect(second.requests.some((r) => r.status === 400)).toBe(true);
    const published = await readPublishedEvents(createKafka(config.kafka), config);
    expect(duplicates(published.map((p) => p.uuid))).toEqual([]);
    expect(published).toHaveLength(backfilled + fresh);
    return metrics;
  }

  it('recovers from a rejected cursor: restarts from the last published time minus an overlap and drops what Kafka already has', async () => {
    const window = { from: Date.now() - 3 * DAY, to: Date.now() - 10 * 60_000 };
    const metrics = await afterRejectedCursor(5, (sim) => sim.generate(3_000, window), 700);
    expect(await metrics.registry.getSingleMetricAsString('okta_forwarder_okta_requests_total')).toContain('outcome="cursor_rejected"');
  });

  it('recovers from a rejected cursor after events published in the future: a bad timestamp does not move the restart point past the events', async () => {
    const window = { from: Date.now() - 3 * DAY, to: Date.now() - 10 * 60_000 };
    // A published time past year 9999 once its offset applies (Date.parse reads year 10000), and
    // one a year ahead: neither says how far the poller has read. On 95a5b92 the restart point
    // became year 10000 and the poller stopped for good ("misconfigured").
    const future = [
      { uuid: uniqueName('year-10000'), published: '9999-12-31T23:30:00-01:00', eventType: 'user.session.start' },
      { uuid: uniqueName('next-year'), published: new Date(Date.now() + 365 * DAY).toISOString(), eventType: 'user.session.start' },
    ];
    await afterRejectedCursor(
      6,
      (sim) => {
        sim.generate(2_000, window);
        sim.append(future);
      },
      500,
    );
  });

  it('polls with an OAuth service app that requires DPoP, refreshing its token', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const keyFile = join(tempDir(), 'service-app.pem');
    writeFileSync(keyFile, await exportPKCS8(privateKey));
    const sim = await simulator({
      oauth: { clientId: '0oa-forwarder', publicKey: await exportJWK(publicKey), requireDpop: true, accessTokenTtlSeconds: 2 },
      rateLimitPerMinute: Infinity,
    });
    sim.generate(2_000, { from: Date.now() - DAY, to: Date.now() - 1000 });
    const { config } = writeTestConfig([{ id: 'acme', domain: sim.domain, token: 'unused' }], {
      org: { auth: { method: 'oauth', clientId: '0oa-forwarder', privateKeyFile: keyFile, dpop: true } },
    });
    const pollers = await run(config);
    const handle = pollers.handles.get('acme')!;
    await waitFor(() => handle.stats().events === 2_000, 'the backfill over OAuth');
    // Tokens live 2 s here: the poller, polling every second, must refresh its token to go on.
    const issued = () => sim.requests.filter((r) => r.path === '/oauth2/v1/token' && r.status === 200).length;
    await waitFor(() => issued() >= 2, 'a refreshed access token', 30_000);
    sim.generate(300, { from: Date.now() - 1000, to: Date.now() });
    await waitFor(() => handle.stats().events === 2_300, 'events after the token refresh', 30_000);
    const logs = sim.requests.filter((r) => r.path === '/api/v1/logs');
    expect(logs.length).toBeGreaterThan(2);
    expect(logs.every((r) => r.auth === 'DPoP')).toBe(true);
    expect(sim.requests.some((r) => r.path === '/oauth2/v1/token' && r.status === 400)).toBe(true);
  });

  it('is fenced by a second publisher with the same transactional id', async () => {
    const { config } = writeTestConfig([{ id: 'acme', domain: '127.0.0.1:1', token: 'unused-token' }]);
    const kafka = createKafka(config.kafka);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, config.kafka);
    await admin.disconnect();
    const options = {
      org: 'acme',
      transactionalId: uniqueName('it-fence'),
      eventsTopic: config.kafka.topics.events,
      checkpointsTopic: config.kafka.topics.checkpoints,
      deadLetterTopic: config.kafka.topics.deadLetter,
    };
    const codec = createOktaEventCodec();
    const page = (n: number) => ({
      events: [encodeEvent({ uuid: `uuid-${n}`, published: new Date().toISOString(), eventType: 'user.session.start' }, codec)],
      rejected: [],
      checkpoint: { version: 1 as const, org: 'acme', nextUrl: `http://127.0.0.1:1/api/v1/logs?after=${n}`, since: new Date().toISOString(), lastPublished: undefined, events: n, committedAt: new Date().toISOString() },
    });
    const zombie = new PagePublisher(kafka, options);
    await zombie.connect();
    await zombie.publish(page(1));
    const successor = new PagePublisher(kafka, options);
    await successor.connect();
    await expect(zombie.publish(page(2))).rejects.toMatchObject({ code: 'OF_KAFKA_FENCED' });
    await successor.publish(page(3));
    await Promise.all([zombie.disconnect(), successor.disconnect()]);
    const published = await readPublishedEvents(kafka, config);
    expect(published.map((p) => p.uuid)).toEqual(['uuid-1', 'uuid-3']);
  });
});
