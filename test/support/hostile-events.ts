/**
 * Hostile variants of real Okta events (test/fixtures/okta-events), seeded, for every stage that
 * takes events: `normalize`, `import`, the poller (the simulator serving them), the sink.
 *
 *   hostileEvents(seed, count) -> { name, event, normalize }[]
 *
 * `event` is the event as a value, or as raw JSON text (a string) when JSON.stringify cannot
 * write it: `1e400`, nesting thousands of levels deep, a `\r` between members, a line that is not
 * an event. `name` is `<class>/<variant>#<i>`. `normalize` says what normalization makes of it: a
 * document (possibly repaired, with labels) or a rejection (dead-lettered by the sink). Other
 * stages may refuse earlier (the Avro encoder refuses `1e400`; Kafka refuses records over its
 * limit) and must dead-letter what they refuse. Every event gets a fresh uuid unless its class is
 * about uuids, so that events never overwrite each other in Elasticsearch.
 *
 * The same variants, applied to the first fixture event, are the files of
 * test/fixtures/hostile/<class>.ndjson (written by test/support/write-hostile-fixtures.ts, with
 * expectations.json naming each line).
 */
import { Random } from '../../src/simulator/random.js';
import { normalizeEvent } from '../../src/normalize/index.js';
import { setOwn } from '../../src/normalize/field-reader.js';
import { leaves } from '../../src/normalize/leaf-paths.js';
import { fixtureEvents } from './fixtures.js';

type OktaEvent = Record<string, unknown>;

export const HOSTILE_CLASSES = [
  /** Issue 8 defect 3: string values of 1 MB, shaped to make backtracking patterns quadratic. */
  'huge-strings',
  /** Defect 2: one event over 1 MB, Kafka's default record limit. */
  'oversized-record',
  /** Defects 1 and 10: uuids Elasticsearch cannot take as `_id`, or that do not name one event. */
  'unusable-uuid',
  /** Defects 7 and 11: numbers beyond double range (`1e400`), which JSON.parse reads as Infinity. */
  'non-finite-numbers',
  /** Defects 7 and 11: nesting thousands of levels deep. */
  'deep-nesting',
  /** Defect 9: nesting past the `unmapped` flattened field's depth_limit (40), but shallow otherwise. */
  'unmapped-too-deep',
  /** Defect 9: keys Elasticsearch refuses in `unmapped` (a NUL, keys too long to index), and odd but valid ones. */
  'unsafe-keys',
  /** Defect 9: `published` times Elasticsearch's date cannot hold, or that are not times. */
  'unplaceable-time',
  /** Defect 8: raw `\r` and Unicode line separators inside a line. */
  'line-breaks',
  /** Lines of an NDJSON file that are not events: not JSON, or JSON but not an object. */
  'not-an-event',
] as const;

export type HostileClass = (typeof HOSTILE_CLASSES)[number];

export interface HostileEvent {
  name: string;
  /** The event, or its raw JSON text when JSON.stringify cannot write it. */
  event: unknown;
  /** What prepareActivity (the sink, `normalize`) makes of it. */
  normalize: 'document' | 'rejection';
}

interface Variant {
  readonly name: string;
  readonly normalize: 'document' | 'rejection';
  /** Keeps the uuid the variant sets instead of giving the event a fresh one. */
  readonly ownUuid?: boolean;
  make(base: OktaEvent, random: Random): unknown;
}

const MB = 1024 * 1024;

/**
 * `length` characters that make backtracking patterns work hard: `a@`, then a character and a
 * dot over and over, then a space, defeats `^[^\s@]+@[^\s@]+\.[^\s@]+$` (quadratic: 20,000
 * characters took 2 s); the character (a digit, a letter, `:`, `-`) varies with `flavour` to
 * feed IP, date and name patterns too.
 */
export function hostileText(length: number, flavour = 0): string {
  const unit = `${['1', 'a', ':', '-'][flavour % 4] as string}.`;
  const text = `a@${unit.repeat(Math.ceil(Math.max(0, length - 3) / 2))}`.slice(0, Math.max(0, length - 1));
  return `${text} `.slice(0, length);
}

/** hostileText of `length` characters, made distinct by `n` at its start (shared strings would hide per-value costs). */
function distinctHostileText(length: number, n: number): string {
  const prefix = String(n);
  return prefix + hostileText(length - prefix.length, n);
}

/**
 * A copy of `event` with every string leaf set to `length` hostile characters (a distinct string
 * per leaf), except the paths in `keep`.
 */
export function withEveryString(event: OktaEvent, length: number, keep: readonly string[] = ['published', 'uuid']): OktaEvent {
  const copy = structuredClone(event);
  let flavour = 0;
  for (const leaf of leaves(copy)) {
    if (typeof leaf.value !== 'string' || keep.includes(String(leaf.path[0]))) continue;
    setAt(copy, leaf.path, distinctHostileText(length, flavour));
    flavour += 1;
  }
  return copy;
}

/**
 * One event holding every string leaf path of every fixture event (test/fixtures/okta-events), each
 * set to `length` hostile characters, with a valid `published` and uuid: the worst case for
 * normalization's string handling.
 */
export function everyFixtureStringPath(length: number): OktaEvent {
  const event: OktaEvent = {};
  let flavour = 0;
  for (const fixture of fixtureEvents()) {
    for (const leaf of leaves(fixture)) {
      if (typeof leaf.value !== 'string' || leaf.path[0] === 'published' || leaf.path[0] === 'uuid') continue;
      if (trySetAt(event, leaf.path, distinctHostileText(length, flavour))) flavour += 1;
    }
  }
  return { ...event, uuid: 'c0ffee00-0000-4000-8000-000000000001', published: '2024-06-01T08:00:00.000Z' };
}

/** Raw JSON text of `event` with `"__RAW__"` replaced by `raw` (a number JSON.stringify cannot write, say). */
function rawText(event: OktaEvent, raw: string): string {
  return JSON.stringify(event).replace('"__RAW__"', raw);
}

function nestedObjects(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = { level: value };
  return value;
}

function nestedArrays(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

const withDebugData = (base: OktaEvent, extra: Record<string, unknown>): OktaEvent => {
  const debugContext = (base.debugContext ?? {}) as Record<string, unknown>;
  const debugData = (debugContext.debugData ?? {}) as Record<string, unknown>;
  return { ...base, debugContext: { ...debugContext, debugData: { ...debugData, ...extra } } };
};

const VARIANTS: Record<HostileClass, readonly Variant[]> = {
  'huge-strings': [
    {
      name: 'alternate-id-1mb',
      normalize: 'document',
      make: (base) => ({ ...base, actor: { ...(base.actor as object), alternateId: hostileText(MB) } }),
    },
    { name: 'display-message-1mb', normalize: 'document', make: (base) => ({ ...base, displayMessage: hostileText(MB, 3) }) },
    { name: 'every-string-32kb', normalize: 'document', make: (base) => withEveryString(base, 32 * 1024) },
  ],
  'oversized-record': [{ name: 'debug-data-1.1mb', normalize: 'document', make: (base) => withDebugData(base, { oversized: 'x'.repeat(1.1 * MB) }) }],
  'unusable-uuid': [
    { name: 'missing', normalize: 'document', ownUuid: true, make: ({ uuid: _uuid, ...rest }) => rest },
    { name: 'null', normalize: 'document', ownUuid: true, make: (base) => ({ ...base, uuid: null }) },
    { name: 'null-text', normalize: 'document', ownUuid: true, make: (base, random) => ({ ...base, uuid: 'null', displayMessage: `null uuid ${random.hex(8)}` }) },
    { name: 'empty', normalize: 'document', ownUuid: true, make: (base) => ({ ...base, uuid: '' }) },
    { name: 'whitespace', normalize: 'document', ownUuid: true, make: (base) => ({ ...base, uuid: ' \t ' }) },
    { name: 'number', normalize: 'document', ownUuid: true, make: (base) => ({ ...base, uuid: 42 }) },
    { name: 'object', normalize: 'document', ownUuid: true, make: (base) => ({ ...base, uuid: { id: 'x' } }) },
    { name: 'over-512-bytes', normalize: 'document', ownUuid: true, make: (base, random) => ({ ...base, uuid: random.hex(513) }) },
    { name: 'over-512-bytes-utf8', normalize: 'document', ownUuid: true, make: (base) => ({ ...base, uuid: '€'.repeat(171) }) },
    { name: 'lone-surrogate', normalize: 'document', ownUuid: true, make: (base, random) => ({ ...base, uuid: `${random.uuid()}\ud800` }) },
  ],
  'non-finite-numbers': [
    { name: 'top-level', normalize: 'document', make: (base) => rawText({ ...base, riskScore: '__RAW__' }, '1e400') },
    { name: 'negative-in-debug-data', normalize: 'document', make: (base) => rawText(withDebugData(base, { risk: '__RAW__' }), '-1e400') },
    {
      name: 'latitude',
      normalize: 'document',
      make: (base) => rawText({ ...base, client: { ...(base.client as object), geographicalContext: { geolocation: { lat: '__RAW__', lon: 2.35 } } } }, '1e400'),
    },
    { name: 'in-array', normalize: 'document', make: (base) => rawText({ ...base, scores: [1, '__RAW__', 3] }, '1e999') },
    { name: 'version', normalize: 'document', make: (base) => rawText({ ...base, version: '__RAW__' }, '1e400') },
  ],
  'deep-nesting': [
    { name: 'objects-5000', normalize: 'document', make: (base) => rawText({ ...base, deep: '__RAW__' }, `${'{"level":'.repeat(5000)}1${'}'.repeat(5000)}`) },
    { name: 'arrays-5000', normalize: 'document', make: (base) => rawText({ ...base, deep: '__RAW__' }, `${'['.repeat(5000)}"x"${']'.repeat(5000)}`) },
    {
      name: 'debug-data-objects-20000',
      normalize: 'document',
      make: (base) => rawText(withDebugData(base, { deep: '__RAW__' }), `${'{"a":'.repeat(20000)}1e400${'}'.repeat(20000)}`),
    },
    { name: 'empty-objects-5000', normalize: 'document', make: (base) => rawText({ ...base, deep: '__RAW__' }, `${'{"a":'.repeat(5000)}{}${'}'.repeat(5000)}`) },
  ],
  'unmapped-too-deep': [
    { name: 'objects-41', normalize: 'document', make: (base) => ({ ...base, deep: nestedObjects(40, 'x') }) },
    { name: 'objects-60-in-debug-data', normalize: 'document', make: (base) => withDebugData(base, { deep: nestedObjects(60, 'x') }) },
    { name: 'objects-in-arrays-45', normalize: 'document', make: (base) => ({ ...base, deep: nestedObjects(15, nestedArrays(20, nestedObjects(30, 'x'))) }) },
    { name: 'arrays-60', normalize: 'document', make: (base) => ({ ...base, deep: nestedArrays(60, 'x') }) },
    { name: 'objects-39-kept', normalize: 'document', make: (base) => ({ ...base, deep: nestedObjects(38, 'x') }) },
  ],
  'unsafe-keys': [
    { name: 'nul-top-level', normalize: 'document', make: (base) => ({ ...base, 'risk\u0000score': 7 }) },
    { name: 'nul-in-debug-data', normalize: 'document', make: (base) => withDebugData(base, { 'a\u0000b': { c: 1 }, kept: 'yes' }) },
    // Elasticsearch indexes `<key path>\0<value>` as one term of at most 32,766 bytes (values up to 8,191 characters are indexed).
    { name: 'key-9000-chars', normalize: 'document', make: (base) => ({ ...base, ['k'.repeat(9000)]: '€'.repeat(8000) }) },
    { name: 'key-9000-bytes-utf8', normalize: 'document', make: (base) => withDebugData(base, { ['€'.repeat(3000)]: '€'.repeat(8000) }) },
    {
      name: 'long-path',
      normalize: 'document',
      make: (base) => {
        let value: unknown = '€'.repeat(8000);
        for (let i = 0; i < 30; i++) value = { [`${i}${'p'.repeat(300)}`]: value };
        return { ...base, path: value };
      },
    },
    { name: 'reserved-key', normalize: 'document', make: (base) => ({ ...base, okta_forwarder_unsafe_keys: 'mine', 'x\u0000': 1 }) },
    { name: 'dots-and-empty-keys', normalize: 'document', make: (base) => ({ ...base, '': 'empty', '.': 'dot', 'a..b': { '': 1 } }) },
    { name: 'proto-and-constructor', normalize: 'document', make: (base) => JSON.parse(`{"__proto__":{"polluted":true},"constructor":{"prototype":1},${JSON.stringify(base).slice(1)}`) as OktaEvent },
  ],
  'unplaceable-time': [
    { name: 'year-10000-after-offset', normalize: 'rejection', make: (base) => ({ ...base, published: '9999-12-31T23:30:00-01:00' }) },
    { name: 'year-minus-1-after-offset', normalize: 'rejection', make: (base) => ({ ...base, published: '0000-01-01T00:30:00+01:00' }) },
    { name: 'year-9999-last-millisecond', normalize: 'document', make: (base) => ({ ...base, published: '9999-12-31T23:59:59.999Z' }) },
    { name: 'year-0000', normalize: 'document', make: (base) => ({ ...base, published: '0000-01-01T00:00:00Z' }) },
    { name: 'huge-published', normalize: 'rejection', make: (base) => ({ ...base, published: `2024-06-01T00:00:00Z${'9'.repeat(MB)}` }) },
    { name: 'missing', normalize: 'rejection', make: ({ published: _published, ...rest }) => rest },
    { name: 'number', normalize: 'rejection', make: (base) => ({ ...base, published: 1717228800000 }) },
    { name: 'day-31-of-30', normalize: 'document', make: (base) => ({ ...base, published: '2024-06-31T12:00:00Z' }) },
  ],
  'line-breaks': [
    { name: 'carriage-returns-between-members', normalize: 'document', make: (base) => JSON.stringify(base).replaceAll(',"', ',\r"') },
    { name: 'line-separators-in-strings', normalize: 'document', make: (base) => JSON.stringify({ ...base, displayMessage: 'one\u2028two\u2029three\u0085four' }) },
    { name: 'escaped-line-breaks', normalize: 'document', make: (base) => ({ ...base, displayMessage: 'one\rtwo\nthree\r\n' }) },
  ],
  'not-an-event': [
    { name: 'not-json', normalize: 'rejection', make: () => '{"uuid": "x", not json' },
    { name: 'truncated', normalize: 'rejection', make: (base) => JSON.stringify(base).slice(0, 100) },
    { name: 'array', normalize: 'rejection', make: (base) => JSON.stringify([base]) },
    { name: 'number', normalize: 'rejection', make: () => '42' },
    { name: 'null', normalize: 'rejection', make: () => 'null' },
    { name: 'string', normalize: 'rejection', make: () => '"an event"' },
  ],
};

/** The variants of a class, by name (for fixtures and focused tests). */
export function hostileVariants(hostileClass: HostileClass): readonly { name: string; normalize: 'document' | 'rejection' }[] {
  return VARIANTS[hostileClass].map(({ name, normalize }) => ({ name, normalize }));
}

/** The first real fixture event, and the others that normalize to documents: the bases of the variants. */
export function baseEvents(): OktaEvent[] {
  return fixtureEvents().filter((event) => {
    try {
      normalizeEvent(event, { org: 'hostile' });
      return true;
    } catch {
      return false;
    }
  });
}

/** One variant of one class applied to `base`, with `uuid` unless the variant sets its own. */
export function hostileEvent(hostileClass: HostileClass, variantName: string, base: OktaEvent, random: Random, uuid?: string): HostileEvent {
  const variant = VARIANTS[hostileClass].find((candidate) => candidate.name === variantName);
  if (!variant) throw new Error(`no hostile variant ${hostileClass}/${variantName}`);
  const withUuid = variant.ownUuid || uuid === undefined ? base : { ...base, uuid };
  return { name: `${hostileClass}/${variant.name}`, event: variant.make(withUuid, random), normalize: variant.normalize };
}

/**
 * `count` hostile events from `seed`: classes in turn (any count of at least HOSTILE_CLASSES.length
 * covers every class), each a seeded variant of a seeded real event with a seeded fresh uuid.
 * The same seed gives the same events.
 */
export function hostileEvents(seed: number, count: number): HostileEvent[] {
  const random = new Random(seed);
  const bases = baseEvents();
  const out: HostileEvent[] = [];
  for (let i = 0; i < count; i++) {
    const hostileClass = HOSTILE_CLASSES[i % HOSTILE_CLASSES.length] as HostileClass;
    const variant = random.pick(VARIANTS[hostileClass]);
    const hostile = hostileEvent(hostileClass, variant.name, random.pick(bases), random, random.uuid());
    out.push({ ...hostile, name: `${hostile.name}#${i}` });
  }
  return out;
}

function setAt(target: OktaEvent, path: readonly (string | number)[], value: unknown): void {
  let at: Record<string | number, unknown> = target;
  for (const step of path.slice(0, -1)) at = at[step] as Record<string | number, unknown>;
  setOwn(at as Record<string, unknown>, String(path[path.length - 1]), value);
}

/**
 * Sets `value` at `path`, making objects and arrays on the way; false where the path crosses a
 * value of another kind. Own properties only: a `__proto__` key of an event is data.
 */
function trySetAt(target: OktaEvent, path: readonly (string | number)[], value: unknown): boolean {
  let at: Record<string, unknown> = target;
  for (let i = 0; i < path.length - 1; i++) {
    const step = String(path[i]);
    const wantArray = typeof path[i + 1] === 'number';
    if (!Object.hasOwn(at, step) || at[step] === null) setOwn(at, step, wantArray ? [] : {});
    const next = at[step];
    if (typeof next !== 'object' || next === null || Array.isArray(next) !== wantArray) return false;
    at = next as Record<string, unknown>;
  }
  const last = String(path[path.length - 1]);
  if (Object.hasOwn(at, last) && typeof at[last] === 'object' && at[last] !== null) return false;
  setOwn(at, last, value);
  return true;
}
