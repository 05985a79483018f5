import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { runSimulator, startSimulator, type SimulatorHandle, type SimulatorOptions } from '../../src/simulator/index.js';
import { waitFor } from '../support/wait.js';

// The Okta System Log simulator's /api/v1/logs semantics (docs/okta-system-log-api.md 1.2-1.6):
// polling vs bounded requests, links, cursors, late events, validation and retention. Time is
// driven through the simulator's `now` option; nothing sleeps.

const TOKEN = 'ssws-test-token-0123456789';
const T0 = Date.parse('2024-06-01T12:00:00.000Z');
const MINUTE = 60_000;
const DAY = 86_400_000;

const running: SimulatorHandle[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function simulator(options: SimulatorOptions = {}): Promise<{ sim: SimulatorHandle; clock: { now: number } }> {
  const clock = { now: T0 };
  const sim = await startSimulator({ apiTokens: [TOKEN], rateLimitPerMinute: Infinity, seed: 42, now: () => clock.now, ...options });
  running.push(sim);
  return { sim, clock };
}

interface Page {
  status: number;
  body: unknown;
  events: Record<string, unknown>[];
  linkLines: string[];
  self: string | undefined;
  next: string | undefined;
}

async function get(url: string, token = TOKEN): Promise<Page> {
  const res = await request(url, { headers: { authorization: `SSWS ${token}`, accept: 'application/json' } });
  const body: unknown = await res.body.json();
  const raw = res.headers.link;
  const linkLines = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const rel = (name: string) => linkLines.find((l) => l.endsWith(`rel="${name}"`))?.match(/^<([^>]+)>/)?.[1];
  return { status: res.statusCode, body, events: Array.isArray(body) ? (body as Record<string, unknown>[]) : [], linkLines, self: rel('self'), next: rel('next') };
}

function logsUrl(sim: SimulatorHandle, params: Record<string, string | number>): string {
  const url = new URL('/api/v1/logs', sim.url);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
  return url.href;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Follows next links until an empty polling page; returns the events and the link to resume from. */
async function drain(start: string): Promise<{ events: Record<string, unknown>[]; resume: string; pages: number }> {
  const events: Record<string, unknown>[] = [];
  let url = start;
  for (let pages = 1; ; pages++) {
    const page = await get(url);
    expect(page.status).toBe(200);
    expect(page.next).toBeDefined();
    url = page.next as string;
    if (page.events.length === 0) return { events, resume: url, pages };
    events.push(...page.events);
  }
}

describe('simulator: polling requests', () => {
  it('select on persistence time and always link next, even on an empty page', async () => {
    const { sim } = await simulator();
    sim.generate(30, { from: T0 - 10 * MINUTE, to: T0 - MINUTE });
    const first = await get(logsUrl(sim, { since: iso(T0 - 20 * MINUTE), limit: 1000 }));
    expect(first.status).toBe(200);
    expect(first.events).toHaveLength(30);
    expect(first.next).toBeDefined();

    const empty = await get(first.next as string);
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual([]);
    expect(empty.next).toBeDefined();
    // An empty page's next link stays where it was: asking again is still empty, then sees new events.
    const again = await get(empty.next as string);
    expect(again.events).toEqual([]);
    sim.generate(5, { from: T0 - 30_000, to: T0 });
    expect((await get(again.next as string)).events).toHaveLength(5);
  });

  it('send self and next as two separate lower-case link header lines with absolute URLs to the same host', async () => {
    const { sim } = await simulator();
    sim.generate(3, { from: T0 - MINUTE, to: T0 });
    const url = logsUrl(sim, { since: iso(T0 - DAY), limit: 2 });
    const page = await get(url);
    expect(page.linkLines).toHaveLength(2);
    expect(page.linkLines[0]).toBe(`<${url}>; rel="self"`);
    expect(page.linkLines[1]).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/api\/v1\/logs\?[^>]+>; rel="next"$/);
    const next = new URL(page.next as string);
    expect(next.host).toBe(sim.domain);
    expect(next.searchParams.get('limit')).toBe('2');
    expect(next.searchParams.get('after')).toBeTruthy();
    expect(next.searchParams.has('until')).toBe(false);
  });

  it('following next links returns every event exactly once, late events included', async () => {
    const { sim, clock } = await simulator();
    const history = sim.generate(2500, { from: T0 - 2 * DAY, to: T0 });
    const firstPass = await drain(logsUrl(sim, { since: iso(T0 - 3 * DAY), limit: 1000 }));
    expect(firstPass.pages).toBe(4); // 1000 + 1000 + 500 + the empty page
    const lastPublishedSeen = Math.max(...firstPass.events.map((e) => Date.parse(e.published as string)));

    clock.now += 5 * MINUTE;
    // Published 10 minutes before they are persisted: earlier than events already served.
    const late = sim.generate(40, { lateMs: 10 * MINUTE });
    const fresh = sim.generate(60, { from: clock.now - MINUTE, to: clock.now });
    expect(Math.min(...late.map((e) => Date.parse(e.published)))).toBeLessThan(lastPublishedSeen);

    const secondPass = await drain(firstPass.resume);
    const all = [...firstPass.events, ...secondPass.events].map((e) => e.uuid as string);
    expect(all).toHaveLength(2600);
    expect(new Set(all).size).toBe(2600);
    expect(new Set(all)).toEqual(new Set([...history, ...late, ...fresh].map((e) => e.uuid)));
    // The second pass is in persistence order, not published order: the late ones come first.
    expect(secondPass.events.slice(0, 40).map((e) => e.uuid)).toEqual(late.map((e) => e.uuid));
  });

  it('return an event persisted after since even when it was published before since', async () => {
    const { sim, clock } = await simulator();
    clock.now = T0;
    const [late] = sim.generate(1, { lateMs: 30 * MINUTE });
    const since = iso(T0 - 5 * MINUTE);
    const polled = await get(logsUrl(sim, { since }));
    expect(polled.events.map((e) => e.uuid)).toEqual([late?.uuid]);
    expect(Date.parse(late?.published as string)).toBeLessThan(Date.parse(since));
    // A bounded window over the same period misses it: it filters on published.
    const bounded = await get(logsUrl(sim, { since, until: iso(T0) }));
    expect(bounded.events).toEqual([]);
  });

  it('default since to 7 days before now', async () => {
    const { sim } = await simulator();
    sim.generate(5, { from: T0 - 9 * DAY, to: T0 - 8 * DAY });
    sim.generate(7, { from: T0 - 6 * DAY, to: T0 - 5 * DAY });
    const page = await get(logsUrl(sim, {}));
    expect(page.events).toHaveLength(7);
  });
});

describe('simulator: bounded requests', () => {
  it('select on published in [since, until], in published order, with no next on the last page', async () => {
    const { sim } = await simulator();
    const events = sim.generate(250, { from: T0 - 2 * DAY, to: T0 });
    const since = T0 - 36 * 3_600_000;
    const until = T0 - 12 * 3_600_000;
    const expected = events.filter((e) => Date.parse(e.published) >= since && Date.parse(e.published) <= until);
    const served: Record<string, unknown>[] = [];
    let url: string | undefined = logsUrl(sim, { since: iso(since), until: iso(until), limit: 50 });
    let pages = 0;
    while (url) {
      const page = await get(url);
      expect(page.status).toBe(200);
      served.push(...page.events);
      pages++;
      url = page.next;
    }
    expect(served.map((e) => e.uuid)).toEqual(expected.map((e) => e.uuid));
    expect(pages).toBe(Math.ceil(expected.length / 50));
    const published = served.map((e) => Date.parse(e.published as string));
    expect(published).toEqual([...published].sort((a, b) => a - b));
  });

  it('page newest first with sortOrder=DESCENDING', async () => {
    const { sim } = await simulator();
    const events = sim.generate(120, { from: T0 - DAY, to: T0 });
    const served: Record<string, unknown>[] = [];
    let url: string | undefined = logsUrl(sim, { since: iso(T0 - DAY), until: iso(T0), sortOrder: 'DESCENDING', limit: 25 });
    while (url) {
      const page = await get(url);
      served.push(...page.events);
      url = page.next;
    }
    expect(served.map((e) => e.uuid)).toEqual([...events].reverse().map((e) => e.uuid));
  });

  it('keep the window of the first page in next links when until was left out', async () => {
    const { sim, clock } = await simulator();
    sim.generate(10, { from: T0 - MINUTE, to: T0 });
    const first = await get(logsUrl(sim, { sortOrder: 'DESCENDING', limit: 4 }));
    expect(first.events).toHaveLength(4);
    const next = new URL(first.next as string);
    expect(next.searchParams.get('until')).toBe(iso(T0));
    expect(next.searchParams.get('since')).toBe(iso(T0 - 7 * DAY));
    clock.now += MINUTE;
    sim.generate(5, { from: clock.now - 1000, to: clock.now });
    const rest = [...(await get(first.next as string)).events];
    expect(rest).toHaveLength(4);
  });
});

describe('simulator: cursors and validation', () => {
  it('refuses a tampered cursor, a foreign cursor and a cursor of the other request kind with 400 E0000029', async () => {
    const { sim } = await simulator();
    const other = (await simulator()).sim;
    sim.generate(5, { from: T0 - MINUTE, to: T0 });
    other.generate(5, { from: T0 - MINUTE, to: T0 });
    const page = await get(logsUrl(sim, { since: iso(T0 - DAY), limit: 2 }));
    const next = new URL(page.next as string);
    const after = next.searchParams.get('after') as string;

    const tampered = new URL(next);
    tampered.searchParams.set('after', (after[0] === 'A' ? 'B' : 'A') + after.slice(1));
    const foreign = new URL((await get(logsUrl(other, { since: iso(T0 - DAY), limit: 2 }))).next as string);
    foreign.host = sim.domain;
    const otherKind = new URL(next);
    otherKind.searchParams.set('until', iso(T0));
    const invented = new URL(next);
    invented.searchParams.set('after', `${T0}_1`);

    for (const url of [tampered, foreign, otherKind, invented]) {
      const res = await get(url.href);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ errorCode: 'E0000029', errorLink: 'E0000029', errorCauses: [] });
      expect((res.body as { errorSummary: string }).errorSummary).toMatch(/^Invalid paging request/);
      expect((res.body as { errorId: string }).errorId).toBeTruthy();
    }
  });

  it('accepts since next to its own after cursor and follows the cursor', async () => {
    const { sim } = await simulator();
    sim.generate(4, { from: T0 - MINUTE, to: T0 });
    const page = await get(logsUrl(sim, { since: iso(T0 - DAY), limit: 2 }));
    const next = new URL(page.next as string);
    next.searchParams.set('since', iso(T0 - DAY));
    const second = await get(next.href);
    expect(second.status).toBe(200);
    expect(second.events.map((e) => e.uuid)).not.toContain(page.events[0]?.uuid);
    expect(second.events).toHaveLength(2);
  });

  it('defaults limit to 100, clamps it to 1000 and refuses one that is not a number', async () => {
    const { sim } = await simulator();
    sim.generate(1500, { from: T0 - DAY, to: T0 });
    expect((await get(logsUrl(sim, { since: iso(T0 - DAY) }))).events).toHaveLength(100);
    const clamped = await get(logsUrl(sim, { since: iso(T0 - DAY), limit: 5000 }));
    expect(clamped.events).toHaveLength(1000);
    expect(new URL(clamped.next as string).searchParams.get('limit')).toBe('1000');
    const bad = await get(logsUrl(sim, { limit: 'lots' }));
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ errorCode: 'E0000001' });
  });

  it('refuses dates that are not ISO 8601 with 400 E0000001 and a cause', async () => {
    const { sim } = await simulator();
    const badDates: Record<string, string>[] = [{ since: 'yesterday' }, { since: iso(T0 - DAY), until: '2017-09-31T22:23:07.777Z' }, { since: '1717243200' }];
    for (const params of badDates) {
      const res = await get(logsUrl(sim, params));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ errorCode: 'E0000001', errorLink: 'E0000001' });
      expect((res.body as { errorCauses: unknown[] }).errorCauses).toHaveLength(1);
    }
    // Offsets and missing seconds are ISO 8601 too.
    expect((await get(logsUrl(sim, { since: '2024-06-01T13:00+02:00' }))).status).toBe(200);
  });

  it('refuses since more than 180 days ago with 400 E0000053', async () => {
    const { sim } = await simulator();
    const res = await get(logsUrl(sim, { since: iso(T0 - 181 * DAY) }));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ errorCode: 'E0000053', errorSummary: 'Invalid parameter: The since parameter is over 180 days prior to the current day.' });
  });

  it('never returns events older than 90 days: an older since is accepted and silently truncated', async () => {
    const { sim, clock } = await simulator();
    sim.generate(10, { from: T0 - 100 * DAY, to: T0 - 95 * DAY });
    const recent = sim.generate(10, { from: T0 - 10 * DAY, to: T0 - 9 * DAY });
    const since = iso(T0 - 120 * DAY);
    const polled = await drain(logsUrl(sim, { since, limit: 1000 }));
    expect(polled.events.map((e) => e.uuid)).toEqual(recent.map((e) => e.uuid));
    const bounded = await get(logsUrl(sim, { since, until: iso(T0) }));
    expect(bounded.events.map((e) => e.uuid)).toEqual(recent.map((e) => e.uuid));
    // Time passes: the recent ones age out too.
    clock.now += 85 * DAY;
    expect((await get(logsUrl(sim, { since: iso(clock.now - 100 * DAY), until: iso(clock.now) }))).events).toEqual([]);
  });

  it('narrows results with filter and q, and refuses filters on published', async () => {
    const { sim } = await simulator();
    const events = sim.generate(400, { from: T0 - DAY, to: T0 });
    const sso = events.filter((e) => e.eventType === 'user.authentication.sso');
    const filtered = await get(logsUrl(sim, { since: iso(T0 - DAY), until: iso(T0), limit: 1000, filter: 'eventType eq "user.authentication.sso"' }));
    expect(filtered.events.map((e) => e.uuid)).toEqual(sso.map((e) => e.uuid));
    const failures = await get(logsUrl(sim, { since: iso(T0 - DAY), until: iso(T0), limit: 1000, filter: '(outcome.result eq "FAILURE" or outcome.result eq "DENY") and severity eq "WARN"' }));
    expect(failures.events.length).toBe(events.filter((e) => (e.outcome.result === 'FAILURE' || e.outcome.result === 'DENY') && e.severity === 'WARN').length);
    const someone = events[0]?.actor.alternateId as string;
    const byQ = await get(logsUrl(sim, { since: iso(T0 - DAY), until: iso(T0), limit: 1000, q: someone }));
    expect(byQ.events.length).toBeGreaterThan(0);
    expect(byQ.events.every((e) => JSON.stringify(e).includes(someone))).toBe(true);
    const refused = await get(logsUrl(sim, { filter: 'published gt "2024-01-01T00:00:00Z"' }));
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ errorCode: 'E0000053' });
    const unsupported = await get(logsUrl(sim, { filter: 'debugContext.debugData.url co "/oauth/"' }));
    expect(unsupported.body).toMatchObject({ errorCode: 'E0000031' });
    const typo = await get(logsUrl(sim, { filter: 'eventType eqq "x"' }));
    expect(typo.body).toMatchObject({ errorCode: 'E0000053' });
  });
});

describe('simulator: append', () => {
  it('serves appended events exactly as given, quirks included, persisted now', async () => {
    const { sim } = await simulator();
    sim.generate(3, { from: T0 - DAY, to: T0 - DAY + MINUTE });
    const quirky = [
      { uuid: 'quirk-1', published: '2017-09-31T22:23:07.777Z', eventType: 'user.session.start', client: { ipAddress: 'null', zone: 'null', geographicalContext: { geolocation: { lat: 0.0, lon: 0.0 } } }, debugContext: {} },
      { uuid: 'quirk-2', published: '2022-03-22 14:21:53.225', eventtype: 'user.account.lock', p_log_type: 'Okta.SystemLog', unknownField: { nested: [1, 'two', null] } },
      { uuid: 'quirk-3', eventType: 'no.published.at.all', actor: { type: 'SystemPrincipal', alternateId: 'system@okta.com' }, client: null },
    ];
    sim.append(quirky);
    expect(sim.eventCount).toBe(6);
    // Persisted now, after the three generated a day ago: a poller that read up to now still gets them.
    const page = await get(logsUrl(sim, { since: iso(T0 - MINUTE), limit: 1000 }));
    expect(page.events).toEqual(quirky);
  });

  it('serves raw items as their exact text, whatever their published time, and refuses text that is not one JSON value', async () => {
    const { sim } = await simulator();
    sim.generate(1, { from: T0 - MINUTE, to: T0 - MINUTE });
    const raw = ['{"uuid":"big","riskScore":1e400,\r"uuid":"twice"}', '42', '{"uuid":"ancient","published":"0000-01-01T00:00:00Z"}'];
    for (const text of raw) sim.appendRaw(text);
    expect(() => sim.appendRaw('{"uuid": "x", not json')).toThrow(/appendRaw: the text must be one JSON value/);
    expect(sim.eventCount).toBe(4);
    const res = await request(logsUrl(sim, { since: iso(T0 - 2 * MINUTE), limit: 1000 }), { headers: { authorization: `SSWS ${TOKEN}` } });
    const body = await res.body.text();
    // The page is the stored texts joined: the raw items come after the generated event, byte for byte.
    expect(body.endsWith(`,${raw.join(',')}]`)).toBe(true);
  });
});

describe('runSimulator', () => {
  it('serves a history and live traffic, says where, and never logs the token', async () => {
    const lines: string[] = [];
    const sim = await runSimulator({ host: '127.0.0.1', port: 0, token: TOKEN, historyDays: 60, historyEvents: 500, livePerMinute: 1200, rateLimitPerMinute: 0, log: (l) => lines.push(l) });
    running.push(sim);
    expect(lines.join('\n')).toContain(sim.url);
    expect(lines.join('\n')).not.toContain(TOKEN);
    await waitFor(() => sim.eventCount > 500, 'live events');
    const page = await get(`${sim.url}/api/v1/logs?limit=1000&since=${iso(Date.now() - 61 * DAY)}`);
    expect(page.status).toBe(200);
    expect(page.events.length).toBeGreaterThan(500);
    const published = page.events.map((e) => Date.parse(e.published as string));
    expect(Math.min(...published)).toBeLessThan(Date.now() - 50 * DAY);
  });
});
