import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from '../../src/simulator/index.js';

// The simulator's failure paths on /api/v1/logs: rate limits (docs/okta-system-log-api.md 2),
// error bodies and authentication (3, 4.1), and the faults a test can inject.

const TOKEN = 'ssws-test-token-0123456789';
const T0 = Date.parse('2024-06-01T12:00:20.000Z');
const END_OF_MINUTE_S = Date.parse('2024-06-01T12:01:00.000Z') / 1000;

const running: SimulatorHandle[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function simulator(options: SimulatorOptions = {}): Promise<{ sim: SimulatorHandle; clock: { now: number } }> {
  const clock = { now: T0 };
  const sim = await startSimulator({ apiTokens: [TOKEN], seed: 7, now: () => clock.now, ...options });
  running.push(sim);
  sim.generate(20, { from: T0 - 60_000, to: T0 });
  return { sim, clock };
}

/** `token` null sends no Authorization header. */
async function get(sim: SimulatorHandle, token: string | null = TOKEN, path = '/api/v1/logs?limit=5') {
  const res = await request(new URL(path, sim.url), { headers: token === null ? {} : { authorization: `SSWS ${token}` } });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const h = (name: string) => res.headers[name] as string | undefined;
  return {
    status: res.statusCode,
    text,
    json: json as Record<string, unknown> | undefined,
    contentType: h('content-type'),
    limit: h('x-rate-limit-limit'),
    remaining: h('x-rate-limit-remaining'),
    reset: h('x-rate-limit-reset'),
  };
}

function expectOktaError(body: Record<string, unknown> | undefined, code: string): void {
  expect(body).toMatchObject({ errorCode: code, errorLink: code, errorCauses: [] });
  expect(typeof body?.errorSummary).toBe('string');
  expect(typeof body?.errorId).toBe('string');
}

describe('simulator: rate limits', () => {
  it('sends X-Rate-Limit headers on every response and 429 E0000047 once the minute budget is spent', async () => {
    const { sim } = await simulator({ rateLimitPerMinute: 3 });
    const answers = [await get(sim), await get(sim, 'wrong-token'), await get(sim), await get(sim)];
    expect(answers.map((a) => a.status)).toEqual([200, 401, 200, 429]);
    expect(answers.map((a) => a.remaining)).toEqual(['2', '1', '0', '0']);
    for (const a of answers) {
      expect(a.limit).toBe('3');
      expect(Number(a.reset)).toBe(END_OF_MINUTE_S);
    }
    const refused = answers[3];
    expect(refused?.json).toEqual({ ...refused?.json, errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.', errorLink: 'E0000047', errorCauses: [] });
  });

  it('gives the budget back when the window resets', async () => {
    const { sim, clock } = await simulator({ rateLimitPerMinute: 1 });
    expect((await get(sim)).status).toBe(200);
    const refused = await get(sim);
    expect(refused.status).toBe(429);
    clock.now = Number(refused.reset) * 1000;
    const after = await get(sim);
    expect(after.status).toBe(200);
    expect(after.remaining).toBe('0');
    expect(Number(after.reset)).toBe(END_OF_MINUTE_S + 60);
  });

  it('never refuses with an infinite budget, and still sends the headers', async () => {
    const { sim } = await simulator({ rateLimitPerMinute: Infinity });
    for (let i = 0; i < 30; i++) {
      const a = await get(sim);
      expect(a.status).toBe(200);
      expect(Number(a.limit)).toBeGreaterThan(0);
      expect(Number(a.remaining)).toBeGreaterThan(0);
      expect(Number(a.reset)).toBe(END_OF_MINUTE_S);
    }
  });
});

describe('simulator: injected faults', () => {
  it.each([
    ['rate-limit', 429, 'E0000047'],
    ['server-error', 500, 'E0000009'],
    ['unauthorized', 401, 'E0000011'],
    ['forbidden', 403, 'E0000006'],
  ] as const)('%s answers %i %s with the Okta error body and the rate-limit headers', async (kind, status, code) => {
    const { sim } = await simulator({ rateLimitPerMinute: 100 });
    sim.injectFaults(kind, 1);
    const a = await get(sim);
    expect(a.status).toBe(status);
    expect(a.contentType).toMatch(/^application\/json/);
    expectOktaError(a.json, code);
    expect(a.limit).toBe('100');
    if (kind === 'rate-limit') expect(a.remaining).toBe('0');
    expect(sim.requests.at(-1)).toMatchObject({ status, fault: kind });
  });

  it('html answers an HTML page with text/html, status 500 or the one asked for', async () => {
    const { sim } = await simulator();
    sim.injectFaults('html', 1);
    sim.injectFaults('html', 1, { status: 404 });
    const first = await get(sim);
    const second = await get(sim);
    expect([first.status, second.status]).toEqual([500, 404]);
    for (const a of [first, second]) {
      expect(a.contentType).toMatch(/^text\/html/);
      expect(a.json).toBeUndefined();
      expect(a.text).toMatch(/^<!DOCTYPE html>/);
      expect(a.limit).toBeDefined();
    }
    expect(second.text).toContain('404 Not Found');
  });

  it('slow answers normally after the delay', async () => {
    const { sim } = await simulator();
    sim.injectFaults('slow', 1, { delayMs: 300 });
    const started = performance.now();
    const a = await get(sim);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(a.status).toBe(200);
    expect(a.json).toHaveLength(5);
    expect(sim.requests.at(-1)).toMatchObject({ status: 200, fault: 'slow' });
  });

  it('reset destroys the connection without an answer', async () => {
    const { sim } = await simulator();
    sim.injectFaults('reset', 1);
    await expect(get(sim)).rejects.toThrow(/socket|closed|reset/i);
    expect(sim.requests.at(-1)).toMatchObject({ status: 0, fault: 'reset' });
    expect((await get(sim)).status).toBe(200);
  });

  it('are used in the order injected, each for its count only', async () => {
    const { sim } = await simulator();
    sim.injectFaults('server-error', 2);
    sim.injectFaults('forbidden', 1);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(sim)).status);
    expect(statuses).toEqual([500, 500, 403, 200, 200]);
  });

  it('refuses an unknown fault kind or a bad count', async () => {
    const { sim } = await simulator();
    expect(() => sim.injectFaults('meteor' as never, 1)).toThrow(/unknown fault kind/);
    expect(() => sim.injectFaults('reset', -1)).toThrow(/count/);
  });
});

describe('simulator: API tokens', () => {
  it('answers 401 E0000011 for a missing, unknown or revoked token, and accepts an added one', async () => {
    const { sim } = await simulator();
    for (const token of [null, 'not-a-known-token']) {
      const a = await get(sim, token);
      expect(a.status).toBe(401);
      expectOktaError(a.json, 'E0000011');
      expect(a.json?.errorSummary).toBe('Invalid token provided');
    }
    sim.revokeToken(TOKEN);
    expect((await get(sim)).status).toBe(401);
    sim.addToken(TOKEN);
    expect((await get(sim)).status).toBe(200);
    sim.addToken('rotated-token-abcdef');
    expect((await get(sim, 'rotated-token-abcdef')).status).toBe(200);
  });

  it('records each request with its auth scheme and status, never the token', async () => {
    const { sim, clock } = await simulator();
    await get(sim, TOKEN, '/api/v1/logs?since=2024-06-01T11:00:00Z&limit=3');
    await get(sim, null);
    clock.now += 1000;
    await get(sim, TOKEN, '/api/v1/nothing-here');
    expect(sim.requests).toEqual([
      { method: 'GET', path: '/api/v1/logs', query: { since: '2024-06-01T11:00:00Z', limit: '3' }, auth: 'SSWS', status: 200, time: T0, eventCount: 3 },
      { method: 'GET', path: '/api/v1/logs', query: { limit: '5' }, auth: 'none', status: 401, time: T0 },
      { method: 'GET', path: '/api/v1/nothing-here', query: {}, auth: 'SSWS', status: 404, time: T0 + 1000 },
    ]);
    expect(JSON.stringify(sim.requests)).not.toContain(TOKEN);
  });

  it('answers other paths with a 404 Okta error and other methods with 405', async () => {
    const { sim } = await simulator();
    const missing = await get(sim, TOKEN, '/api/v1/users');
    expect(missing.status).toBe(404);
    expectOktaError(missing.json, 'E0000007');
    const post = await request(new URL('/api/v1/logs', sim.url), { method: 'POST', headers: { authorization: `SSWS ${TOKEN}` }, body: '{}' });
    expect(post.statusCode).toBe(405);
    expect(await post.body.json()).toMatchObject({ errorCode: 'E0000022' });
  });
});
