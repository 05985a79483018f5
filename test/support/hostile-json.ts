import { Random } from '../../src/simulator/random.js';

/**
 * A seeded generator of hostile JSON text: objects shaped like Okta events (known fields with
 * values of the wrong type, unknown keys) holding what JSON.parse accepts but a codec or a
 * normalizer may not: numbers too large for a double, -0, integers past 2^53, lone surrogates,
 * "__proto__" and duplicate keys, control characters, deep nesting, CR and tabs between tokens.
 * The same seed gives the same texts, so a failure can be replayed.
 */
export function hostileJsonTexts(seed: number, count: number, options: { maxDepth?: number } = {}): string[] {
  const random = new Random(seed);
  const maxDepth = options.maxDepth ?? 6;
  const texts: string[] = [];
  for (let i = 0; i < count; i++) texts.push(hostileEvent(random, maxDepth));
  return texts;
}

const KNOWN_KEYS = ['uuid', 'published', 'eventType', 'version', 'severity', 'displayMessage', 'actor', 'client', 'outcome', 'target', 'transaction', 'debugContext', 'authenticationContext', 'securityContext', 'request'];
const NESTED_KEYS = ['id', 'type', 'alternateId', 'displayName', 'detailEntry', 'geographicalContext', 'geolocation', 'lat', 'lon', 'debugData', 'ipChain', 'result', 'reason', 'authenticationStep', 'asNumber'];
/** As JSON text. */
const ODD_KEYS = ['"__proto__"', '"constructor"', '"unknown"', '""', '"a.b"', '"k\\u0000"', '"uuid"'];
const HOSTILE_NUMBERS = ['1e400', '-1e400', '1E+999', '-0', '0', '-0.0', '9007199254740993', '123456789012345678901234567890', '1e-400', '2.5e-324', '1.7976931348623157e308', '1.8e308', '3.14'];
const HOSTILE_STRINGS = ['"\\ud800"', '"\\udfff x"', '"a\\u0000b"', '"\\r\\n\\t"', '"\u2028\u2029"', '"null"', '""', '"é中😀"', '"\\"quoted\\""', '"__proto__"', '"2024-13-45T99:99:99Z"'];
const SPACES = [' ', '\t', '\r', '\n', '  ', ''];

function hostileEvent(random: Random, maxDepth: number): string {
  const members: string[] = [];
  const count = random.int(1, 8);
  for (let i = 0; i < count; i++) {
    const key = random.chance(0.7) ? JSON.stringify(random.pick(KNOWN_KEYS)) : random.pick(ODD_KEYS);
    members.push(`${space(random)}${key}${space(random)}:${space(random)}${hostileValue(random, random.int(0, maxDepth))}`);
  }
  return `{${members.join(',')}}`;
}

function hostileValue(random: Random, depth: number): string {
  const roll = random.float();
  if (depth > 0 && roll < 0.35) {
    const items = Array.from({ length: random.int(0, 4) }, () => hostileValue(random, depth - 1));
    return `[${items.map((item) => `${space(random)}${item}${space(random)}`).join(',')}]`;
  }
  if (depth > 0 && roll < 0.7) {
    const members = Array.from({ length: random.int(0, 4) }, () => `${JSON.stringify(random.pick(NESTED_KEYS))}:${space(random)}${hostileValue(random, depth - 1)}`);
    return `{${members.join(',')}}`;
  }
  switch (random.int(0, 4)) {
    case 0:
      return random.pick(HOSTILE_NUMBERS);
    case 1:
      return random.pick(HOSTILE_STRINGS);
    case 2:
      return random.pick(['true', 'false', 'null']);
    case 3:
      return String(random.int(-1000, 1000));
    default:
      return JSON.stringify(random.uuid());
  }
}

function space(random: Random): string {
  return random.chance(0.2) ? random.pick(SPACES) : '';
}

/** JSON text nested `depth` levels deep, with a value at the bottom. */
export function deeplyNested(depth: number, bottom = '1'): string {
  return `${'{"a":['.repeat(depth / 2)}${bottom}${']}'.repeat(depth / 2)}`;
}
