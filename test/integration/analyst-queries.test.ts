import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import type { estypes } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activityIndexTemplate, installIndexTemplate } from '../../src/elasticsearch/template.js';
import { indexFor, normalizeEvent } from '../../src/normalize/index.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { elasticsearchEndpoint } from '../support/stack.js';
import { uniqueName } from '../support/wait.js';

/** The five queries docs/analysts.md must document. */
const QUERY_NAMES = ['failed-sign-ins-by-user', 'mfa-factor-changes', 'admin-privilege-grants', 'sign-ins-from-a-new-country', 'api-token-creation'] as const;
type QueryName = (typeof QUERY_NAMES)[number];

/** The ```json query=NAME blocks of docs/analysts.md, parsed, by name. */
function documentedQueries(): Map<string, Record<string, unknown>> {
  const markdown = readFileSync(join(PROJECT_ROOT, 'docs', 'analysts.md'), 'utf8');
  const queries = new Map<string, Record<string, unknown>>();
  for (const [, name, body] of markdown.matchAll(/^```json query=([\w-]+)\n([\s\S]*?)^```$/gm)) {
    queries.set(name as string, JSON.parse(body as string) as Record<string, unknown>);
  }
  return queries;
}

// ---- Okta events, shaped like the fixtures (test/fixtures/okta-events), published relative to now.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Person { id: string; login: string; name: string }
const person = (id: string, first: string, last: string): Person => ({ id, login: `${first.toLowerCase()}@acme.example`, name: `${first} ${last}` });
const alice = person('00ua1ice000000000x7', 'Alice', 'Nguyen');
const bob = person('00ub0b00000000000x7', 'Bob', 'Okafor');
const carol = person('00uca401000000000x7', 'Carol', 'Silva');
const dan = person('00ud4n00000000000x7', 'Dan', 'Diaz');
const frank = person('00uf4r4nk00000000x7', 'Frank', 'Moss');
const grace = person('00ug4ce0000000000x7', 'Grace', 'Eze');

const PLACES = {
  'United States': { ip: '198.51.100.23', city: 'Seattle', state: 'Washington', postalCode: '98101', lat: 47.6062, lon: -122.3321 },
  Germany: { ip: '203.0.113.77', city: 'Berlin', state: 'Land Berlin', postalCode: '10115', lat: 52.532, lon: 13.3849 },
  Brazil: { ip: '192.0.2.45', city: 'Sao Paulo', state: 'Sao Paulo', postalCode: '01000', lat: -23.5505, lon: -46.6333 },
} as const;
type Country = keyof typeof PLACES;

const userTarget = (p: Person) => ({ id: p.id, type: 'User', alternateId: p.login, displayName: p.name, detailEntry: null });

interface EventSpec {
  eventType: string;
  actor: Person;
  ageMs: number;
  result?: 'SUCCESS' | 'FAILURE' | 'DENY';
  reason?: string;
  country?: Country;
  target?: object[];
  displayMessage?: string;
  debugData?: Record<string, string>;
}

function oktaEvent(spec: EventSpec): Record<string, unknown> {
  const place = PLACES[spec.country ?? 'United States'];
  const geographicalContext = { city: place.city, state: place.state, country: spec.country ?? 'United States', postalCode: place.postalCode, geolocation: { lat: place.lat, lon: place.lon } };
  return {
    uuid: randomUUID(),
    published: new Date(Date.now() - spec.ageMs).toISOString(),
    eventType: spec.eventType,
    version: '0',
    severity: spec.result === 'SUCCESS' || spec.result === undefined ? 'INFO' : 'WARN',
    displayMessage: spec.displayMessage ?? spec.eventType,
    actor: { id: spec.actor.id, type: 'User', alternateId: spec.actor.login, displayName: spec.actor.name, detailEntry: null },
    client: {
      userAgent: { rawUserAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/124.0.0.0', os: 'Mac OS X', browser: 'CHROME' },
      zone: 'null',
      device: 'Computer',
      ipAddress: place.ip,
      geographicalContext,
    },
    outcome: { result: spec.result ?? 'SUCCESS', reason: spec.reason ?? null },
    target: spec.target ?? null,
    transaction: { type: 'WEB', id: `Zk${randomUUID().slice(0, 8)}`, detail: {} },
    debugContext: { debugData: { requestUri: '/api/v1/authn', ...spec.debugData } },
    authenticationContext: { authenticationStep: 0, externalSessionId: 'unknown' },
    request: { ipChain: [{ ip: place.ip, geographicalContext, version: 'V4', source: null }] },
  };
}

const signIn = (actor: Person, ageMs: number, country: Country, result: 'SUCCESS' | 'FAILURE' = 'SUCCESS'): Record<string, unknown> =>
  oktaEvent({ eventType: 'user.session.start', actor, ageMs, country, result, displayMessage: 'User login to Okta', ...(result === 'FAILURE' ? { reason: 'INVALID_CREDENTIALS' } : {}) });

/** The events each query must find (by name), and the noise no query may return by mistake. */
const expected = {
  mfaActivate: oktaEvent({ eventType: 'user.mfa.factor.activate', actor: dan, ageMs: 2 * HOUR, target: [userTarget(dan)], debugData: { factor: 'OKTA_VERIFY_PUSH' } }),
  mfaDeactivate: oktaEvent({ eventType: 'user.mfa.factor.deactivate', actor: dan, ageMs: 1 * HOUR, target: [userTarget(dan)], debugData: { factor: 'SMS_FACTOR' } }),
  privilegeGrant: oktaEvent({
    eventType: 'user.account.privilege.grant', actor: frank, ageMs: 3 * HOUR, target: [userTarget(grace)],
    displayMessage: 'Grant user privilege', debugData: { privilegeGranted: 'Organization administrator' },
  }),
  tokenCreate: oktaEvent({
    eventType: 'system.api_token.create', actor: frank, ageMs: 30 * 60_000, displayMessage: 'Create API token',
    target: [{ id: '00Tc1dep10y0000000x7', type: 'Token', alternateId: 'unknown', displayName: 'ci-deploy', detailEntry: null }],
  }),
};

const events: Record<string, unknown>[] = [
  ...Object.values(expected),
  // Failed sign-ins within the last day: alice 3, bob 1.
  signIn(alice, 10 * 60_000, 'United States', 'FAILURE'),
  signIn(alice, 20 * 60_000, 'United States', 'FAILURE'),
  signIn(alice, 5 * HOUR, 'United States', 'FAILURE'),
  signIn(bob, 2 * HOUR, 'Germany', 'FAILURE'),
  // Carol: the United States for weeks, then Brazil today.
  signIn(carol, 20 * DAY, 'United States'),
  signIn(carol, 9 * DAY, 'United States'),
  signIn(carol, 2 * DAY, 'United States'),
  signIn(carol, 1 * HOUR, 'Brazil'),
  // Noise.
  signIn(alice, 3 * DAY, 'United States', 'FAILURE'), // a failure older than 24 h
  signIn(alice, 40 * 60_000, 'United States'), // a successful sign-in
  signIn(bob, 1 * HOUR, 'Germany'), // one country: nothing to compare with
  signIn(dan, 5 * DAY, 'United States'),
  signIn(dan, 3 * HOUR, 'United States'),
  oktaEvent({ eventType: 'user.account.update_password', actor: bob, ageMs: 4 * HOUR, result: 'FAILURE', target: [userTarget(bob)] }), // Account Change, failed
  oktaEvent({ eventType: 'user.account.privilege.revoke', actor: frank, ageMs: 2 * HOUR, target: [userTarget(grace)] }),
  oktaEvent({ eventType: 'application.user_membership.add', actor: frank, ageMs: 2 * HOUR, target: [userTarget(grace), { id: '0oa5a1esf0rce000x7', type: 'AppInstance', alternateId: 'Salesforce', displayName: 'Salesforce' }] }), // also 300501
  oktaEvent({ eventType: 'system.api_token.revoke', actor: frank, ageMs: 20 * 60_000, target: [{ id: '00To1d0000000000x7', type: 'Token', alternateId: 'unknown', displayName: 'old-token' }] }),
  oktaEvent({ eventType: 'group.user_membership.add', actor: frank, ageMs: 6 * HOUR, target: [userTarget(alice), { id: '00g1', type: 'UserGroup', alternateId: 'unknown', displayName: 'Engineering' }] }),
];

const uidOf = (event: Record<string, unknown>): string => event.uuid as string;

// ---- Result helpers.

interface Bucket { key: string; doc_count: number; [sub: string]: unknown }
const buckets = (aggregations: unknown, name: string): Bucket[] => ((aggregations as Record<string, { buckets: Bucket[] }>)[name]?.buckets ?? []);

describe('the analyst queries of docs/analysts.md on a real Elasticsearch', () => {
  let client: Client;
  const prefix = uniqueName('it-queries');
  const queries = documentedQueries();

  const run = async (name: QueryName): Promise<estypes.SearchResponse> => {
    const body = queries.get(name);
    if (!body) throw new Error(`docs/analysts.md has no \`json query=${name}\` block`);
    return client.search({ index: `${prefix}-*`, ...body } as estypes.SearchRequest);
  };
  const hitIds = async (name: QueryName): Promise<string[]> => (await run(name)).hits.hits.map((hit) => hit._id as string).sort();

  beforeAll(async () => {
    const { url, username, password } = elasticsearchEndpoint();
    client = new Client({ node: url, ...(username ? { auth: { username, password } } : {}) });
    await installIndexTemplate(client, prefix);
    const operations = events.flatMap((event) => {
      const document = normalizeEvent(event, { org: 'acme.okta.com' });
      return [{ index: { _index: indexFor(prefix, document), _id: (document.metadata as { uid: string }).uid } }, document];
    });
    const response = await client.bulk({ operations });
    expect(response.items.filter((item) => item.index?.error).map((item) => item.index?.error)).toEqual([]);
    await client.indices.refresh({ index: `${prefix}-*` });
  });

  afterAll(async () => {
    if (!client) return;
    await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    await client.indices.deleteIndexTemplate({ name: activityIndexTemplate(prefix).name }, { ignore: [404] });
    await client.close();
  });

  it('documents all five queries as json query=NAME blocks', () => {
    expect([...queries.keys()].sort()).toEqual([...QUERY_NAMES].sort());
  });

  it('failed-sign-ins-by-user counts the failures of the last 24 h per user: alice 3, bob 1', async () => {
    const users = buckets((await run('failed-sign-ins-by-user')).aggregations, 'users');
    expect(users.map(({ key, doc_count }) => ({ key, doc_count }))).toEqual([
      { key: alice.login, doc_count: 3 },
      { key: bob.login, doc_count: 1 },
    ]);
    expect(buckets(users[0], 'reasons').map((bucket) => bucket.key)).toEqual(['INVALID_CREDENTIALS']);
  });

  it('mfa-factor-changes finds the factor activation and deactivation, and no other account change', async () => {
    expect(await hitIds('mfa-factor-changes')).toEqual([uidOf(expected.mfaActivate), uidOf(expected.mfaDeactivate)].sort());
  });

  it('admin-privilege-grants finds the privilege grant, not the revoke or the app assignment of the same type', async () => {
    expect(await hitIds('admin-privilege-grants')).toEqual([uidOf(expected.privilegeGrant)]);
  });

  it('sign-ins-from-a-new-country puts carol first, with Brazil first seen today and the United States weeks ago', async () => {
    const users = buckets((await run('sign-ins-from-a-new-country')).aggregations, 'users');
    const countryCount = (bucket: Bucket): number => (bucket.country_count as { value: number }).value;
    // Successful sign-ins only (alice's and bob's failures are not counted), users with most countries first.
    expect(users.map((bucket) => ({ user: bucket.key, countries: countryCount(bucket), sign_ins: bucket.doc_count }))).toEqual([
      { user: carol.login, countries: 2, sign_ins: 4 },
      { user: alice.login, countries: 1, sign_ins: 1 },
      { user: bob.login, countries: 1, sign_ins: 1 },
      { user: dan.login, countries: 1, sign_ins: 2 },
    ]);
    const countries = buckets(users[0], 'countries');
    expect(countries.map(({ key, doc_count }) => ({ key, doc_count }))).toEqual([
      { key: 'Brazil', doc_count: 1 },
      { key: 'United States', doc_count: 3 },
    ]);
    const firstSeen = (bucket: Bucket | undefined): number => (bucket?.first_seen as { value: number }).value;
    const dayAgo = Date.now() - DAY;
    expect(firstSeen(countries[0])).toBeGreaterThan(dayAgo); // new for carol
    expect(firstSeen(countries[1])).toBeLessThan(dayAgo - 18 * DAY); // known for weeks
  });

  it('api-token-creation finds the token creation, not the revocation', async () => {
    expect(await hitIds('api-token-creation')).toEqual([uidOf(expected.tokenCreate)]);
  });
});
