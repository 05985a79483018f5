/**
 * What test/integration/hostile-pipeline.test.ts feeds the forwarder and how it accounts for it:
 * the bad records (every hostile class of hostile-events.ts, seeded, and the cases issue 8 names,
 * with what must become of them), and the dead letters read back with their headers.
 */
import type { Kafka } from 'kafkajs';
import type { ForwarderConfig } from '../../src/config/index.js';
import { readToEnd } from '../../src/kafka/read-to-end.js';
import type { Random } from '../../src/simulator/random.js';
import { baseEvents, HOSTILE_CLASSES, hostileEvent, hostileVariants, type HostileClass } from './hostile-events.js';

/** One bad record: its text as served or written, and its uuid when that names it alone. */
export interface BadRecord {
  /** `<class>/<variant>`, and `#2` for a second copy. */
  name: string;
  /** Its JSON text (or, for an NDJSON line, text that may not be JSON). */
  text: string;
  /** The fresh uuid it carries, when the variant kept it: its Kafka key, its `_id` if indexed. */
  uuid: string | undefined;
  /** What must become of it, where issue 8 says so; `undefined`: indexed or dead-lettered, as the preview predicts. */
  expected: ExpectedOutcome | undefined;
}

/** `stage` "publish" stands for the publishing stage of the run: `poll` or `import`. */
export type ExpectedOutcome = { indexed: true; label?: string } | { indexed: false; stage: 'publish' | 'normalize'; reason: RegExp; errorType?: string };

/**
 * The cases issue 8 names, whichever variants the seed picks: an event over 1 MB, an item that is
 * not a JSON object, two events with uuid "null", 1e400, nesting 5,000 levels deep, a NUL in a
 * key, a published year past 9999 after its offset, and raw CRs between the members of a line.
 */
const NAMED: readonly { hostileClass: HostileClass; variant: string; copies?: number; expected: ExpectedOutcome }[] = [
  { hostileClass: 'oversized-record', variant: 'debug-data-1.1mb', expected: { indexed: false, stage: 'publish', reason: /max\.message\.bytes/, errorType: 'record_too_large' } },
  { hostileClass: 'not-an-event', variant: 'array', expected: { indexed: false, stage: 'publish', reason: /^not a JSON object$/ } },
  { hostileClass: 'unusable-uuid', variant: 'null-text', copies: 2, expected: { indexed: true, label: 'uuid_unusable' } },
  { hostileClass: 'non-finite-numbers', variant: 'top-level', expected: { indexed: true, label: 'unmapped_non_finite_numbers' } },
  { hostileClass: 'deep-nesting', variant: 'objects-5000', expected: { indexed: false, stage: 'publish', reason: /nested too deeply/ } },
  { hostileClass: 'unsafe-keys', variant: 'nul-top-level', expected: { indexed: true, label: 'unmapped_unsafe_keys' } },
  { hostileClass: 'unplaceable-time', variant: 'year-10000-after-offset', expected: { indexed: false, stage: 'normalize', reason: /"published"/ } },
  { hostileClass: 'line-breaks', variant: 'carriage-returns-between-members', expected: { indexed: true } },
];

/**
 * The bad records of a run, in a seeded order, each a variant of a seeded real event with a
 * seeded fresh uuid (unless the variant is about uuids). `every-class`: one record per hostile
 * class, the named case where the issue names one, else a seeded variant among those `servable`
 * accepts. `seeded-and-named`: a seeded variant of every class, then the named cases not drawn.
 */
export function badRecords(random: Random, servable: (text: string) => boolean, mix: 'every-class' | 'seeded-and-named'): BadRecord[] {
  const bases = baseEvents();
  const make = (hostileClass: HostileClass, variant: string, expected: ExpectedOutcome | undefined, suffix = ''): BadRecord => {
    const uuid = random.uuid();
    const { name, event } = hostileEvent(hostileClass, variant, random.pick(bases), random, uuid);
    const text = typeof event === 'string' ? event : JSON.stringify(event);
    return { name: `${name}${suffix}`, text, uuid: text.includes(`"uuid":"${uuid}"`) ? uuid : undefined, expected };
  };
  const records: BadRecord[] = [];
  for (const hostileClass of HOSTILE_CLASSES) {
    if (mix === 'every-class' && NAMED.some((entry) => entry.hostileClass === hostileClass)) continue;
    const candidates = hostileVariants(hostileClass).filter((variant) => servable(make(hostileClass, variant.name, undefined).text));
    const { name } = random.pick(candidates);
    const named = NAMED.find((entry) => entry.hostileClass === hostileClass && entry.variant === name);
    records.push(make(hostileClass, name, named?.expected));
  }
  for (const { hostileClass, variant, copies = 1, expected } of NAMED) {
    const drawn = records.filter((record) => record.name === `${hostileClass}/${variant}`).length;
    for (let copy = drawn + 1; copy <= copies; copy++) records.push(make(hostileClass, variant, expected, copy > 1 ? `#${copy}` : ''));
  }
  // Seeded order: which bad record sits next to which is part of what a seed tries.
  for (let i = records.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [records[i], records[j]] = [records[j] as BadRecord, records[i] as BadRecord];
  }
  return records;
}

/** A record of the dead-letter topic, headers as text. */
export interface DeadLetter {
  key: string | undefined;
  value: Buffer;
  headers: Record<string, string>;
}

export async function readDeadLetters(kafka: Kafka, config: ForwarderConfig): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  await readToEnd(kafka, config.kafka.topics.deadLetter, (message) =>
    letters.push({
      key: message.key?.toString(),
      value: message.value ?? Buffer.alloc(0),
      headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)])),
    }),
  );
  return letters;
}
