import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type OktaEvent, type SimulatorHandle, type SimulatorOptions } from '../../src/simulator/index.js';
import { waitFor } from '../support/wait.js';

// The simulator's event generator: realistic System Log events (modelled on real exports), fast
// enough for 100,000-event tests and the poller benchmark.

const TOKEN = 'ssws-test-token-0123456789';
const T0 = Date.parse('2024-06-01T12:00:00.000Z');
const DAY = 86_400_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const running: SimulatorHandle[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function simulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const sim = await startSimulator({ apiTokens: [TOKEN], rateLimitPerMinute: Infinity, seed: 1, now: () => T0, ...options });
  running.push(sim);
  return sim;
}

async function fetchAll(sim: SimulatorHandle, since: number): Promise<unknown[]> {
  const events: unknown[] = [];
  let url = `${sim.url}/api/v1/logs?limit=1000&since=${new Date(since).toISOString()}`;
  for (;;) {
    const res = await request(url, { headers: { authorization: `SSWS ${TOKEN}` } });
    const page = (await res.body.json()) as unknown[];
    if (page.length === 0) return events;
    events.push(...page);
    const links = res.headers.link as string[];
    url = links.find((l) => l.endsWith('rel="next"'))?.slice(1, -13) as string;
  }
}

describe('simulator: event generator', () => {
  it('writes every LogEvent object on every event', async () => {
    const sim = await simulator();
    for (const e of sim.generate(5000, { from: T0 - DAY, to: T0 })) {
      expect(e).toMatchObject({ version: '0', eventType: expect.any(String), displayMessage: expect.any(String) });
      expect(['DEBUG', 'INFO', 'WARN', 'ERROR']).toContain(e.severity);
      expect(e.actor).toMatchObject({ id: expect.any(String), type: expect.any(String), alternateId: expect.any(String), displayName: expect.any(String) });
      expect(e.client.userAgent).toMatchObject({ rawUserAgent: expect.any(String), os: expect.any(String), browser: expect.any(String) });
      expect(e.client.geographicalContext).toMatchObject({ city: expect.any(String), country: expect.any(String), geolocation: { lat: expect.any(Number), lon: expect.any(Number) } });
      expect(e.client.ipAddress).toBe(e.request.ipChain[0]?.ip);
      expect(e.request.ipChain[0]?.version).toBe(e.client.ipAddress.includes(':') ? 'V6' : 'V4');
      expect(e.outcome.result).toMatch(/^(SUCCESS|FAILURE|ALLOW|DENY|CHALLENGE)$/);
      expect(Array.isArray(e.target)).toBe(true);
      expect(e.transaction).toMatchObject({ type: expect.stringMatching(/^(WEB|JOB)$/), id: expect.any(String), detail: expect.any(Object) });
      expect(e.debugContext.debugData).toBeTypeOf('object');
      expect(e.authenticationContext).toMatchObject({ authenticationStep: 0, externalSessionId: expect.any(String) });
      expect(Object.keys(e.securityContext).sort()).toEqual(['asNumber', 'asOrg', 'domain', 'isProxy', 'isp']);
    }
  });

  it('gives unique uuids and ISO published times with milliseconds, spread over the window in order', async () => {
    const sim = await simulator();
    const from = T0 - 30 * DAY;
    const events = sim.generate(20_000, { from, to: T0 });
    expect(new Set(events.map((e) => e.uuid)).size).toBe(20_000);
    expect(events.every((e) => UUID.test(e.uuid))).toBe(true);
    expect(events.every((e) => ISO_MS.test(e.published))).toBe(true);
    const times = events.map((e) => Date.parse(e.published));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThanOrEqual(from);
    expect(times[0]).toBeLessThan(from + DAY);
    expect(times.at(-1)).toBeLessThanOrEqual(T0);
    expect(times.at(-1)).toBeGreaterThan(T0 - DAY);
    // Every day of the window has events.
    expect(new Set(times.map((t) => Math.floor((t - from) / DAY))).size).toBe(30);
  });

  it('mixes many event types, actors, places and clients, with a few percent failures and denials', async () => {
    const sim = await simulator();
    const events = sim.generate(20_000, { from: T0 - 7 * DAY, to: T0 });
    const types = new Set(events.map((e) => e.eventType));
    for (const type of [
      'user.session.start',
      'user.session.end',
      'user.authentication.sso',
      'user.authentication.auth_via_mfa',
      'policy.evaluate_sign_on',
      'group.user_membership.add',
      'group.user_membership.remove',
      'user.account.lock',
      'user.account.privilege.grant',
      'system.api_token.create',
      'system.api_token.revoke',
      'user.mfa.factor.activate',
      'user.mfa.factor.deactivate',
      'application.user_membership.add',
    ]) {
      expect(types).toContain(type);
    }
    const share = (predicate: (e: OktaEvent) => boolean) => events.filter(predicate).length / events.length;
    const failing = share((e) => e.outcome.result === 'FAILURE' || e.outcome.result === 'DENY');
    expect(failing).toBeGreaterThan(0.01);
    expect(failing).toBeLessThan(0.1);
    expect(share((e) => e.eventType === 'policy.evaluate_sign_on' && e.outcome.result === 'CHALLENGE')).toBeGreaterThan(0);
    expect(share((e) => e.eventType === 'user.session.start' && e.outcome.result === 'FAILURE')).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.actor.alternateId)).size).toBeGreaterThan(100);
    expect(new Set(events.map((e) => e.client.ipAddress)).size).toBeGreaterThan(1000);
    expect(new Set(events.map((e) => e.client.geographicalContext.country)).size).toBeGreaterThan(10);
    expect(new Set(events.map((e) => e.client.userAgent.rawUserAgent)).size).toBeGreaterThan(5);
  });

  it('gives the same events for the same seed and clock, and different ones for another seed', async () => {
    const a = (await simulator({ seed: 9 })).generate(50, { from: T0 - DAY, to: T0 });
    const b = (await simulator({ seed: 9 })).generate(50, { from: T0 - DAY, to: T0 });
    const c = (await simulator({ seed: 10 })).generate(50, { from: T0 - DAY, to: T0 });
    expect(b).toEqual(a);
    expect(c.map((e) => e.uuid)).not.toEqual(a.map((e) => e.uuid));
  });

  it('serves each event as the very object generate returned, and a later change to that object does not reach the log', async () => {
    const sim = await simulator();
    const events = sim.generate(2500, { from: T0 - DAY, to: T0 });
    const snapshot = JSON.parse(JSON.stringify(events)) as unknown;
    // Byte for byte: the page is the events' JSON.stringify, keys in the same order.
    const res = await request(`${sim.url}/api/v1/logs?limit=1000&since=${new Date(T0 - 2 * DAY).toISOString()}`, { headers: { authorization: `SSWS ${TOKEN}` } });
    expect(await res.body.text()).toBe(`[${events.slice(0, 1000).map((e) => JSON.stringify(e)).join(',')}]`);
    (events[0] as OktaEvent).eventType = 'changed.after.generate';
    expect(await fetchAll(sim, T0 - 2 * DAY)).toEqual(snapshot);
  });

  it('serves 100,000 generated events in exactly 100 pages of 1000, then empty pages', async () => {
    const sim = await simulator();
    sim.generate(100_000, { from: T0 - 60 * DAY, to: T0 });
    let url = `${sim.url}/api/v1/logs?limit=1000&since=${new Date(T0 - 61 * DAY).toISOString()}`;
    let pages = 0;
    for (;;) {
      const res = await request(url, { headers: { authorization: `SSWS ${TOKEN}` } });
      const bytes = (await res.body.arrayBuffer()).byteLength;
      url = (res.headers.link as string[])[1]?.slice(1, -13) as string;
      if (bytes <= 2) break;
      pages++;
    }
    expect(pages).toBe(100);
  }, 60_000);

  it('adds live traffic, published at the clock, until stopped', async () => {
    let now = T0;
    const sim = await simulator({ now: () => now });
    const stop = sim.startLiveTraffic(6000);
    await waitFor(() => sim.eventCount >= 20, 'live events');
    stop();
    now += 1000;
    const events = (await fetchAll(sim, T0 - 60_000)) as OktaEvent[];
    expect(events.length).toBeGreaterThanOrEqual(20);
    // Published at the clock, a few up to two minutes late.
    expect(events.every((e) => Date.parse(e.published) <= T0 && Date.parse(e.published) >= T0 - 120_000)).toBe(true);
  });
});
