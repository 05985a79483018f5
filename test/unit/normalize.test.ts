import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ForwarderError } from '../../src/errors.js';
import { CLASSIFICATION_TABLE, EVENT_CLASSES, OCSF_VERSION, indexFor, normalizeEvent } from '../../src/normalize/index.js';
import { normalizeEventTraced } from '../../src/normalize/normalize-event.js';
import { fieldName, leaves } from '../../src/normalize/leaf-paths.js';
import { isNoData } from '../../src/normalize/values.js';
import { PROJECT_ROOT } from '../support/cli.js';

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'okta-events');
const ORG = 'acme.okta.com';

interface Expectation {
  file: string;
  line: number;
  class_uid?: number;
  activity_id?: number;
  type_uid?: number;
  actor_user_uid?: string | null;
  src_ip?: string | null;
  status_id?: number;
  time?: string;
  throws?: string;
}

function readEvents(file: string): { line: number; event: Record<string, unknown> }[] {
  return readFileSync(join(FIXTURES, file), 'utf8')
    .split('\n')
    .map((text, index) => ({ text, line: index + 1 }))
    .filter(({ text }) => text.trim() !== '')
    .map(({ text, line }) => ({ line, event: JSON.parse(text) as Record<string, unknown> }));
}

const expectations = JSON.parse(readFileSync(join(FIXTURES, 'normalize-expectations.json'), 'utf8')) as Expectation[];
const FIXTURE_FILES = ['okta-api-events.ndjson', 'okta-quirks.ndjson', 'normalize-cases.ndjson'];
const fixtureEvents = FIXTURE_FILES.flatMap((file) => readEvents(file).map((entry) => ({ file, ...entry })));

function eventAt(file: string, line: number): Record<string, unknown> {
  const found = fixtureEvents.find((entry) => entry.file === file && entry.line === line);
  if (!found) throw new Error(`no fixture event at ${file}:${line}`);
  return found.event;
}

const get = (value: unknown, path: readonly (string | number)[]): unknown =>
  path.reduce<unknown>((at, step) => (at !== null && typeof at === 'object' && Object.hasOwn(at, step) ? (at as Record<string, unknown>)[step] : undefined), value);

/**
 * The no-field-disappears proof: every leaf of the Okta event that carries data is either consumed
 * (and its value then appears somewhere in the document, compared as case-insensitive text) or is
 * found, unchanged, at the same path under `unmapped`.
 */
export function expectNothingLost(event: Record<string, unknown>, org = ORG): void {
  const { document, consumedPaths } = normalizeEventTraced(event, { org });
  const consumed = new Set(consumedPaths.map((path) => JSON.stringify(path)));
  const isConsumed = (path: readonly (string | number)[]): boolean => path.some((_, end) => consumed.has(JSON.stringify(path.slice(0, end + 1))));
  const { unmapped, ...mapped } = document;
  const mappedTexts = new Set(leaves(mapped).map((leaf) => String(leaf.value).toLowerCase()));
  for (const leaf of leaves(event)) {
    if (isNoData(leaf.value)) continue;
    const where = JSON.stringify(leaf.path);
    if (isConsumed(leaf.path)) {
      expect(mappedTexts.has(String(leaf.value).toLowerCase()), `consumed ${where} = ${String(leaf.value)} appears in the document`).toBe(true);
    } else {
      expect(Object.is(get(unmapped, leaf.path), leaf.value), `${where} is kept under unmapped`).toBe(true);
    }
  }
}

describe('normalizeEvent over the fixture events', () => {
  it('has an expectation for every fixture event', () => {
    expect(expectations.map((e) => `${e.file}:${e.line}`).sort()).toEqual(fixtureEvents.map((e) => `${e.file}:${e.line}`).sort());
  });

  it.each(expectations.map((e) => [`${e.file}:${e.line}`, e] as const))('%s classifies and maps as expected', (_, expected) => {
    const event = eventAt(expected.file, expected.line);
    if (expected.throws) {
      expect(() => normalizeEvent(event, { org: ORG })).toThrow(expect.objectContaining({ code: expected.throws }) as Error);
      return;
    }
    const doc = normalizeEvent(event, { org: ORG });
    expect({
      class_uid: doc.class_uid,
      activity_id: doc.activity_id,
      type_uid: doc.type_uid,
      actor_user_uid: get(doc, ['actor', 'user', 'uid']) ?? null,
      src_ip: get(doc, ['src_endpoint', 'ip']) ?? null,
      status_id: doc.status_id,
      time: doc['@timestamp'],
    }).toEqual({
      class_uid: expected.class_uid,
      activity_id: expected.activity_id,
      type_uid: expected.type_uid,
      actor_user_uid: expected.actor_user_uid,
      src_ip: expected.src_ip,
      status_id: expected.status_id,
      time: expected.time,
    });
    expect(doc.type_uid).toBe((doc.class_uid as number) * 100 + (doc.activity_id as number));
    expect(doc.time).toBe(Date.parse(doc['@timestamp'] as string));
    expect(get(doc, ['metadata', 'version'])).toBe(OCSF_VERSION);
    expect(get(doc, ['metadata', 'tenant_uid'])).toBe(ORG);
    expect(get(doc, ['metadata', 'product'])).toEqual({ name: 'Okta System Log', vendor_name: 'Okta' });
  });

  it.each(fixtureEvents.filter((e) => Object.keys(e.event).length > 0).map((e) => [`${e.file}:${e.line}`, e.event] as const))(
    '%s: no Okta field silently disappears',
    (_, event) => expectNothingLost(event),
  );

  it('maps a full authentication event field by field', () => {
    const doc = normalizeEvent(eventAt('normalize-cases.ndjson', 10), { org: ORG });
    expect(doc).toMatchObject({
      category_uid: 3,
      category_name: 'Identity & Access Management',
      class_name: 'Authentication',
      activity_name: 'Logon',
      type_name: 'Authentication: Logon',
      severity_id: 1,
      severity: 'Informational',
      status: 'Success',
      status_code: 'SUCCESS',
      message: 'user.session.start',
      metadata: {
        uid: 'c0000010-0000-4000-8000-000000000010',
        event_code: 'user.session.start',
        log_level: 'DEBUG',
        original_time: '2024-06-01T08:45:00.000Z',
        correlation_uid: '102iPhOnEsEsSiOn00x7',
      },
      actor: {
        user: { uid: '00uadm1n000000000x7', name: 'admin@acme.example', full_name: 'Ada Admin', email_addr: 'admin@acme.example', type: 'User', type_id: 1 },
        session: { uid: '102iPhOnEsEsSiOn00x7' },
      },
      src_endpoint: {
        ip: '2001:db8::1234',
        zone: 'Corporate VPN',
        intermediate_ips: ['203.0.113.9'],
        location: { city: 'Lyon', region: 'Auvergne-Rhone-Alpes', country: 'France', postal_code: '69001', lat: 45.764, long: 4.8357, coordinates: [4.8357, 45.764] },
      },
      http_request: { user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)', url: { path: '/api/v1/authn' } },
      device: { type: 'Mobile', type_id: 5, os: { name: 'iOS', type_id: 301, type: 'iOS' } },
      user: { uid: '00uadm1n000000000x7' },
      auth_protocol_id: 99,
      auth_protocol: 'WS_FEDERATION',
      logon_type_id: 99,
      logon_type: 'Outlook',
      auth_factors: [{ factor_type_id: 11, factor_type: 'Password' }],
    });
    // Invalid hops of the proxy chain (not an IP, an IPv6 zone id) stay in unmapped, never in an `ip` field.
    expect(get(doc, ['unmapped', 'request', 'ipChain', 2, 'ip'])).toBe('not-an-ip');
    expect(get(doc, ['unmapped', 'request', 'ipChain', 3, 'ip'])).toBe('fe80::1%eth0');
    expect(get(doc, ['unmapped', 'securityContext', 'asOrg'])).toBe('deutsche telekom ag');
    expect(get(doc, ['unmapped', 'transaction', 'id'])).toBe('Znc0000010');
  });

  it('gives each class its own target fields', () => {
    const norm = (line: number) => normalizeEvent(eventAt('normalize-cases.ndjson', line), { org: ORG });
    expect(norm(1).user).toMatchObject({ uid: '00un3wh1re000000000x7', name: 'nina@acme.example' });
    expect(norm(3)).toMatchObject({ activity_name: 'MFA Factor Enable', auth_factors: [{ factor_type_id: 7, factor_type: 'OTP', provider: 'OKTA_CREDENTIAL_PROVIDER' }] });
    expect(norm(4)).toMatchObject({
      class_name: 'User Access Management',
      user: { uid: '00un3wh1re000000000x7' },
      resources: [{ uid: '0uan1na00000000x7', type: 'AppUser' }, { uid: '0oaSa1esf0rce000x7', name: 'Salesforce.com', type: 'AppInstance' }],
    });
    expect(norm(5)).toMatchObject({ class_name: 'API Activity', api: { operation: 'system.api_token.revoke' }, resources: [{ uid: '00Tt0ken00000000x7', name: 'terraform', type: 'Token' }] });
    expect(norm(6)).toMatchObject({ class_name: 'Entity Management', activity_name: 'Update', entity: { uid: '00pP0l1cy0000000x7', name: 'Default sign-on policy', type: 'PolicyEntity' } });
    expect(norm(7)).toMatchObject({ auth_protocol_id: 6, auth_protocol: 'OAUTH 2.0', actor: { user: { type: 'PublicClientApp', type_id: 99 }, session: { issuer: 'aus1default000x7' } } });
    expect(get(norm(7), ['actor', 'session', 'uid'])).toBeUndefined(); // "unknown" is not a session id
    expect(norm(11)).toMatchObject({ service: { uid: '0oaG1tHub0000000x7', name: 'GitHub Enterprise Cloud' }, auth_protocol_id: 5, auth_protocol: 'SAML' });
    expect(norm(12)).toMatchObject({ class_name: 'Group Management', activity_name: 'Add User', group: { uid: '00gEng1neer1ng00x7', name: 'Engineering', type: 'UserGroup' }, user: { uid: '00un3wh1re000000000x7' } });
  });

  it('puts the MFA flag on MFA authentications only', () => {
    const mfa = fixtureEvents.find((e) => e.event.eventType === 'user.authentication.auth_via_mfa');
    expect(normalizeEvent(mfa!.event, { org: ORG }).is_mfa).toBe(true);
    expect(normalizeEvent(eventAt('normalize-cases.ndjson', 11), { org: ORG }).is_mfa).toBeUndefined();
  });
});

describe('quirks of real Okta events', () => {
  it('treats "ipAddress":"null" as no IP and (0.00, 0.00) as no coordinates, keeping the zeros in unmapped', () => {
    const doc = normalizeEvent(eventAt('okta-quirks.ndjson', 1), { org: ORG });
    expect(get(doc, ['src_endpoint', 'ip'])).toBeUndefined();
    expect(get(doc, ['src_endpoint', 'location'])).toEqual({ country: 'United States' });
    expect(get(doc, ['unmapped', 'client', 'geographicalContext', 'geolocation'])).toEqual({ lat: 0, lon: 0 });
    expect(get(doc, ['unmapped', 'client', 'ipAddress'])).toBeUndefined();
    expect(get(doc, ['src_endpoint', 'zone'])).toBeUndefined();
  });

  it('maps a SystemPrincipal actor with an all-null client and debugContext: {}', () => {
    const doc = normalizeEvent(eventAt('okta-quirks.ndjson', 2), { org: ORG });
    expect(get(doc, ['actor', 'user'])).toEqual({ uid: '0oa1systemprincipal00', name: 'system@okta.com', full_name: 'Okta System', email_addr: 'system@okta.com', type: 'SystemPrincipal', type_id: 3 });
    expect(doc.src_endpoint).toBeUndefined();
    expect(doc.device).toBeUndefined();
    expect(get(doc, ['unmapped', 'client'])).toBeUndefined();
    expect(get(doc, ['unmapped', 'debugContext'])).toBeUndefined();
    expect(get(doc, ['metadata', 'correlation_uid'])).toBe('YjSlblAAqnKY7CdyCkXNBgAAAIU'); // no session: the transaction id
  });

  it('maps an event with client: {} and no request', () => {
    const doc = normalizeEvent(eventAt('okta-quirks.ndjson', 3), { org: ORG });
    expect(doc).toMatchObject({ class_uid: 3002, status_id: 2, status: 'Failure', status_code: 'DENY', status_detail: 'VERIFICATION_ERROR', severity_id: 3 });
    expect(doc.unmapped).toBeUndefined();
  });

  it('does not guess lower-cased keys (eventtype, debugcontext): they go to unmapped and the event lands as Base Event', () => {
    const doc = normalizeEvent(eventAt('okta-quirks.ndjson', 4), { org: ORG });
    expect(doc).toMatchObject({ class_uid: 0, activity_id: 99, category_uid: 0 });
    expect(get(doc, ['metadata', 'event_code'])).toBeUndefined();
    expect(get(doc, ['unmapped', 'eventtype'])).toBe('user.account.lock');
    expect(get(doc, ['unmapped', 'debugcontext', 'debugData', 'requestUri'])).toBe('/api/v1/authn');
    expect(get(doc, ['unmapped', 'p_any_emails'])).toEqual(['frank@acme.example']);
    expect(get(doc, ['metadata', 'labels'])).toEqual(['published_assumed_utc']);
  });

  it('keeps wrongly typed values in unmapped instead of mapping them', () => {
    const doc = normalizeEvent(eventAt('okta-quirks.ndjson', 7), { org: ORG });
    expect(get(doc, ['metadata', 'log_version'])).toBe('0'); // version: 0 (a number)
    expect(doc.severity_id).toBe(0); // severity: null
    expect(get(doc, ['src_endpoint', 'location', 'coordinates'])).toBeUndefined(); // lat: "x"
    expect(get(doc, ['unmapped', 'client', 'geographicalContext', 'geolocation'])).toEqual({ lat: 'x', lon: 2.3522, alt: 35.5 });
    expect(get(doc, ['unmapped', 'authenticationContext', 'credentialProvider'])).toEqual(['DUO']);
    expect(get(doc, ['unmapped', 'debugContext', 'debugData'])).toBe('requestUri=/app/sso; threatSuspected=false');
    expect(get(doc, ['unmapped', 'request', 'ipChain'])).toEqual([{ version: 'V4' }, '192.0.2.45']);
    expect(get(doc, ['unmapped', 'unknownTopLevel', 'nested', 'deeper'])).toEqual([{ a: 1 }, { b: [true, false, null] }]); // positions kept: nulls hold array places
  });

  it('keeps a "__proto__" key as data and never touches Object.prototype', () => {
    const doc = normalizeEvent(eventAt('okta-quirks.ndjson', 8), { org: ORG });
    const unmapped = doc.unmapped as Record<string, unknown>;
    expect(Object.hasOwn(unmapped, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(unmapped)).toBe(Object.prototype);
    expect(JSON.stringify(doc)).toContain('"__proto__":{"top":"level proto key"}');
    expect(({} as Record<string, unknown>).top).toBeUndefined();
  });

  it('maps an actor of a non-user type with its type kept verbatim', () => {
    const doc = normalizeEvent(eventAt('okta-quirks.ndjson', 9), { org: ORG });
    expect(get(doc, ['actor', 'user'])).toMatchObject({ type: 'PublicClientApp', type_id: 99 });
    expect(get(doc, ['unmapped', 'actor', 'detailEntry', 'botScore'])).toBe(97);
    expect(get(doc, ['unmapped', 'target'])).toBeUndefined(); // target: []
  });
});

describe('the published rule', () => {
  const withPublished = (published: unknown): Record<string, unknown> => ({ ...eventAt('normalize-cases.ndjson', 1), published });

  it('repairs a day the month does not have by rolling over like the calendar, and labels it', () => {
    const doc = normalizeEvent(eventAt('okta-quirks.ndjson', 6), { org: ORG });
    expect(doc['@timestamp']).toBe('2017-10-01T22:23:07.777Z');
    expect(get(doc, ['metadata', 'original_time'])).toBe('2017-09-31T22:23:07.777Z');
    expect(get(doc, ['metadata', 'labels'])).toEqual(['published_repaired']);
    expect(normalizeEvent(withPublished('2023-02-29T00:00:00Z'), { org: ORG })['@timestamp']).toBe('2023-03-01T00:00:00.000Z');
    expect(normalizeEvent(withPublished('2024-02-29T00:00:00Z'), { org: ORG })).not.toHaveProperty('metadata.labels');
  });

  it.each([
    ['2024-06-01T10:30:00.000+02:00', '2024-06-01T08:30:00.000Z', undefined],
    ['2024-06-01T08:35:00.000123456Z', '2024-06-01T08:35:00.000Z', undefined],
    ['2024-06-01T08:35:00Z', '2024-06-01T08:35:00.000Z', undefined],
    ['2020-11-25 21:27:03.496000000', '2020-11-25T21:27:03.496Z', ['published_assumed_utc']],
    ['2021-01-08 21:28:34.875', '2021-01-08T21:28:34.875Z', ['published_assumed_utc']],
  ])('accepts %s as %s', (published, iso, labels) => {
    const doc = normalizeEvent(withPublished(published), { org: ORG });
    expect(doc['@timestamp']).toBe(iso);
    expect(get(doc, ['metadata', 'labels'])).toEqual(labels);
    expect(get(doc, ['metadata', 'original_time'])).toBe(published);
  });

  it.each([[undefined], [null], [''], ['yesterday'], [1717228800000], ['2024-13-01T00:00:00Z'], ['2024-06-32T00:00:00Z'], ['2024-06-01T24:00:00Z'], ['2024-06-01T08:60:00Z'], ['2024-06-01']])(
    'refuses published %j with OF_NORMALIZE (the sink dead-letters it)',
    (published) => {
      const event = withPublished(published);
      if (published === undefined) delete event.published;
      let thrown: unknown;
      try {
        normalizeEvent(event, { org: ORG });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ForwarderError);
      expect((thrown as ForwarderError).code).toBe('OF_NORMALIZE');
      expect((thrown as ForwarderError).message).toMatch(/^normalizing Okta event c0000001-0000-4000-8000-000000000001: .*published/);
    },
  );
});

describe('tables', () => {
  const base = eventAt('normalize-cases.ndjson', 1);

  it('lands an unknown event type as Base Event, activity Other', () => {
    const doc = normalizeEvent({ ...base, eventType: 'brand.new.event_type' }, { org: ORG });
    expect(doc).toMatchObject({ class_uid: 0, class_name: 'Base Event', category_uid: 0, activity_id: 99, activity_name: 'Other', type_uid: 99, type_name: 'Base Event: Other' });
    expect(get(doc, ['metadata', 'event_code'])).toBe('brand.new.event_type');
    expect(get(doc, ['unmapped', 'target', 0, 'id'])).toBe('00un3wh1re000000000x7'); // Base Event has no target fields
  });

  it('keeps every classification consistent with its OCSF class', () => {
    for (const [eventType, [classKey, activityId]] of Object.entries(CLASSIFICATION_TABLE)) {
      const eventClass = EVENT_CLASSES[classKey];
      expect(activityId === 99 || Object.hasOwn(eventClass.activities, activityId), `${eventType}: activity ${activityId}`).toBe(true);
      expect(Math.floor(eventClass.uid / 1000)).toBe(eventClass.categoryUid);
      const doc = normalizeEvent({ ...base, eventType }, { org: ORG });
      expect(doc.type_uid).toBe(eventClass.uid * 100 + activityId);
    }
  });

  it.each([
    ['DEBUG', 1, 'Informational'],
    ['INFO', 1, 'Informational'],
    ['WARN', 3, 'Medium'],
    ['ERROR', 4, 'High'],
    ['LOUD', 99, 'LOUD'],
    [null, 0, 'Unknown'],
  ])('maps severity %s to severity_id %i (%s)', (severity, id, caption) => {
    const doc = normalizeEvent({ ...base, severity }, { org: ORG });
    expect([doc.severity_id, doc.severity]).toEqual([id, caption]);
  });

  it.each([
    ['SUCCESS', 1, 'Success'],
    ['FAILURE', 2, 'Failure'],
    ['DENY', 2, 'Failure'],
    ['ALLOW', 99, 'ALLOW'],
    ['CHALLENGE', 99, 'CHALLENGE'],
    ['RATE_LIMIT', 99, 'RATE_LIMIT'],
    [null, 0, 'Unknown'],
  ])('maps outcome.result %s to status_id %i (%s)', (result, id, caption) => {
    const doc = normalizeEvent({ ...base, outcome: { result, reason: 'why' } }, { org: ORG });
    expect([doc.status_id, doc.status, doc.status_detail]).toEqual([id, caption, 'why']);
    expect(doc.status_code).toBe(result ?? undefined);
  });
});

describe('options and index names', () => {
  it('adds raw_data (the original event as JSON text) only with keepRaw', () => {
    const event = eventAt('okta-quirks.ndjson', 8);
    expect(normalizeEvent(event, { org: ORG })).not.toHaveProperty('raw_data');
    const raw = normalizeEvent(event, { org: ORG, keepRaw: true }).raw_data as string;
    expect(JSON.parse(raw)).toEqual(JSON.parse(JSON.stringify(event)));
  });

  it('is pure: the input event is not modified', () => {
    const event = eventAt('okta-quirks.ndjson', 7);
    const before = JSON.stringify(event);
    normalizeEvent(event, { org: ORG, keepRaw: true });
    expect(JSON.stringify(event)).toBe(before);
  });

  it('names the daily index from the document time in UTC', () => {
    const doc = normalizeEvent({ ...eventAt('normalize-cases.ndjson', 1), published: '2024-06-01T23:30:00.000-02:00' }, { org: ORG });
    expect(indexFor('okta-activity', doc)).toBe('okta-activity-2024.06.02');
    expect(() => indexFor('okta-activity', {})).toThrow(ForwarderError);
  });

  it('never writes null or empty objects into the mapped part of a document', () => {
    for (const { event } of fixtureEvents.filter((e) => e.event.published !== undefined)) {
      const { unmapped, ...mapped } = normalizeEvent(event, { org: ORG });
      void unmapped;
      for (const leaf of leaves(mapped)) expect(isNoData(leaf.value), fieldName(leaf.path)).toBe(false);
    }
  });
});
