import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTIVITY_MAPPINGS } from '../../src/elasticsearch/template.js';
import { indexFor, normalizeEvent, type ActivityDocument } from '../../src/normalize/index.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { elasticsearchObjections } from '../support/document-checks.js';
import { everyFixtureStringPath, HOSTILE_CLASSES, hostileEvents, hostileText } from '../support/hostile-events.js';

// Hostile input, at the layer where it is handled: normalization of one event. Each case here
// failed on 95a5b92 (quadratic e-mail pattern, 1e400 as null, stack overflow on deep nesting,
// documents Elasticsearch refuses); test/integration/normalize-hostile.test.ts indexes the same
// documents into a real Elasticsearch.

const ORG = 'acme.okta.com';
const HOSTILE_DIR = join(PROJECT_ROOT, 'test', 'fixtures', 'hostile');
const expectations = JSON.parse(readFileSync(join(HOSTILE_DIR, 'expectations.json'), 'utf8')) as Record<string, { line: number; name: string; normalize: 'document' | 'rejection' }[]>;

/** Each line of the hostile fixture files, with its name and expected outcome. */
const hostileLines = Object.entries(expectations).flatMap(([file, lines]) => {
  const texts = readFileSync(join(HOSTILE_DIR, file), 'utf8').split('\n');
  return lines.map((expected) => ({ ...expected, text: texts[expected.line - 1] as string }));
});

/** normalizeEvent + indexFor, the way the sink used them on 95a5b92 and prepareActivity does now; undefined when refused. */
function normalized(event: unknown): { index: string; document: ActivityDocument } | undefined {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return undefined;
  try {
    const document = normalizeEvent(event as Record<string, unknown>, { org: ORG, keepRaw: true });
    return { index: indexFor('okta-activity', document), document };
  } catch (error) {
    if ((error as { code?: string }).code === 'OF_NORMALIZE') return undefined;
    throw error;
  }
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

const get = (value: unknown, path: readonly (string | number)[]): unknown =>
  path.reduce<unknown>((at, step) => (at !== null && typeof at === 'object' && Object.hasOwn(at, step) ? (at as Record<string, unknown>)[step] : undefined), value);

const millisecondsOf = (work: () => void): number => {
  const started = performance.now();
  work();
  return performance.now() - started;
};

describe('normalization of hostile events', () => {
  it('normalizes an event with every string field of the fixture events at 1 MB in well under a second', () => {
    const event = everyFixtureStringPath(1024 * 1024);
    let document: ActivityDocument | undefined;
    // Without keepRaw: with it, the time goes to JSON.stringify of the 150 MB event (linear, and optional).
    const elapsed = millisecondsOf(() => (document = normalizeEvent(event, { org: ORG })));
    expect(elapsed).toBeLessThan(1000);
    expect(get(document, ['actor', 'user', 'name'])).toHaveLength(1024 * 1024);
    // Not an e-mail address (no real one is a megabyte long), however it is shaped.
    expect(get(document, ['actor', 'user', 'email_addr'])).toBeUndefined();
  });

  it.each([0, 1, 2, 3])('refuses a 1 MB "published" of hostile shape %i in well under a second', (flavour) => {
    const event = { ...everyFixtureStringPath(16), published: hostileText(1024 * 1024, flavour) };
    let thrown: unknown;
    const elapsed = millisecondsOf(() => {
      try {
        normalizeEvent(event, { org: ORG });
      } catch (error) {
        thrown = error;
      }
    });
    expect(elapsed).toBeLessThan(1000);
    expect((thrown as { code?: string }).code).toBe('OF_NORMALIZE');
    expect((thrown as Error).message.length).toBeLessThan(400); // the reason quotes the value's start, not a megabyte
  });

  it('still recognizes real e-mail addresses and IPs', () => {
    const base = everyFixtureStringPath(16);
    const doc = normalizeEvent({ ...base, actor: { id: 'x', type: 'User', alternateId: 'ada.lovelace+okta@mail.example.co.uk' }, client: { ipAddress: '2001:db8::ffff:192.0.2.1' } }, { org: ORG });
    expect(get(doc, ['actor', 'user', 'email_addr'])).toBe('ada.lovelace+okta@mail.example.co.uk');
    expect(get(doc, ['src_endpoint', 'ip'])).toBe('2001:db8::ffff:192.0.2.1');
    for (const notEmail of ['a@b', '@b.c', 'a@.c', 'a@b.', 'a b@c.d', 'a@b@c.d', 'a@b.c d']) {
      const other = normalizeEvent({ ...base, actor: { id: 'x', type: 'User', alternateId: notEmail } }, { org: ORG });
      expect(get(other, ['actor', 'user', 'email_addr']), notEmail).toBeUndefined();
    }
  });

  it('keeps 1e400 as text in unmapped, never as null', () => {
    const line = hostileLines.find((entry) => entry.name === 'non-finite-numbers/top-level') as (typeof hostileLines)[number];
    const doc = normalizeEvent(JSON.parse(line.text) as Record<string, unknown>, { org: ORG, keepRaw: true });
    expect(get(doc, ['unmapped', 'riskScore'])).toBe('Infinity');
    expect(JSON.stringify(doc)).toContain('"riskScore":"Infinity"');
    expect(JSON.parse(doc.raw_data as string)).toMatchObject({ riskScore: 'Infinity' });
    expect(get(doc, ['metadata', 'labels'])).toContain('unmapped_non_finite_numbers');
  });

  it('bounds deep nesting: the part past the depth limit is kept as its JSON text, at the limit', () => {
    for (const depth of [5_000, 100_000]) {
      const event = JSON.parse(`{"published":"2024-06-01T08:00:00Z","uuid":"deep-${depth}","deep":${'{"level":'.repeat(depth)}1${'}'.repeat(depth)}}`) as Record<string, unknown>;
      const doc = normalizeEvent(event, { org: ORG, keepRaw: true });
      const limit = ACTIVITY_MAPPINGS.properties.unmapped.depth_limit;
      // unmapped is level 1, `deep` level 2: levels 2 to 40 stay objects, the rest is text in `level`.
      const atLimit = get(doc, ['unmapped', 'deep', ...Array.from({ length: limit - 2 }, () => 'level')]) as Record<string, unknown>;
      expect(typeof atLimit.level).toBe('string');
      expect((atLimit.level as string).startsWith('{"level":{"level":')).toBe(true);
      expect((atLimit.level as string).length).toBe('{"level":'.length * (depth - limit + 1) + 1 + (depth - limit + 1));
      expect(get(doc, ['metadata', 'labels'])).toEqual(['unmapped_too_deep']);
      expect((doc.raw_data as string).length).toBeGreaterThan(depth * 9);
    }
  });

  it('keeps the entries of keys Elasticsearch refuses, exactly, as JSON text beside their siblings', () => {
    const doc = normalizeEvent(
      { published: '2024-06-01T08:00:00Z', uuid: 'keys', 'a\u0000b': 1, debugContext: { debugData: { 'x\u0000': { y: [1, 2] }, kept: 'yes', ['k'.repeat(9000)]: 'v' } } },
      { org: ORG },
    );
    expect(get(doc, ['unmapped', 'okta_forwarder_unsafe_keys'])).toBe('{"a\\u0000b":1}');
    expect(get(doc, ['unmapped', 'debugContext', 'debugData', 'kept'])).toBe('yes');
    expect(JSON.parse(get(doc, ['unmapped', 'debugContext', 'debugData', 'okta_forwarder_unsafe_keys']) as string)).toEqual({ 'x\u0000': { y: [1, 2] }, ['k'.repeat(9000)]: 'v' });
    expect(get(doc, ['metadata', 'labels'])).toEqual(['unmapped_unsafe_keys']);
  });

  it('refuses a time that its zone offset moves past the year 9999 or before the year 0000', () => {
    for (const published of ['9999-12-31T23:30:00-01:00', '0000-01-01T00:30:00+01:00']) {
      expect(() => normalizeEvent({ published, uuid: 'u' }, { org: ORG }), published).toThrow(/outside the years 0000 to 9999/);
    }
    expect(normalizeEvent({ published: '9999-12-31T23:59:59.999Z', uuid: 'u' }, { org: ORG })['@timestamp']).toBe('9999-12-31T23:59:59.999Z');
    expect(normalizeEvent({ published: '0000-01-01T00:00:00Z', uuid: 'u' }, { org: ORG })['@timestamp']).toBe('0000-01-01T00:00:00.000Z');
  });

  it.each(hostileLines.map((entry) => [`${entry.name} (line ${entry.line})`, entry] as const))(
    'hostile fixture %s: its expected outcome, and a document Elasticsearch takes',
    (_, entry) => {
      const result = normalized(parse(entry.text));
      expect(result === undefined ? 'rejection' : 'document').toBe(entry.normalize);
      if (result) {
        const id = get(result.document, ['metadata', 'uid']) as string;
        expect(elasticsearchObjections({ ...result, id })).toEqual([]);
      }
    },
  );

  it('gives every seeded hostile event its declared outcome, and only documents Elasticsearch takes', () => {
    const events = hostileEvents(20240601, 3 * HOSTILE_CLASSES.length);
    expect(new Set(events.map((event) => event.name.split('/')[0]))).toEqual(new Set(HOSTILE_CLASSES));
    for (const hostile of events) {
      const event = typeof hostile.event === 'string' ? parse(hostile.event) : hostile.event;
      const result = normalized(event);
      expect(result === undefined ? 'rejection' : 'document', hostile.name).toBe(hostile.normalize);
      if (result) expect(elasticsearchObjections({ ...result, id: get(result.document, ['metadata', 'uid']) as string }), hostile.name).toEqual([]);
    }
  });

  it('generates the same hostile events from the same seed', () => {
    const names = (seed: number) => hostileEvents(seed, 40).map((event) => event.name);
    expect(names(7)).toEqual(names(7));
    expect(names(7)).not.toEqual(names(8));
  });
});
