import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createOktaEventCodec, type OktaEventCodec } from '../../src/avro/index.js';
import { jsonArrayItemTexts, parseJsonKeepingLargeNumbers } from '../../src/avro/json-parse.js';
import { LargeNumber, MAX_NESTING_DEPTH } from '../../src/avro/json-text.js';
import { currentSchemaVersion } from '../../src/avro/schema-versions.js';
import { encodeOrReject, type EncodeOutcome } from '../../src/kafka/messages.js';
import { encodePageBody, fromTransferable } from '../../src/poller/page-encoding.js';
import { fixtureEvents } from '../support/fixtures.js';
import { deeplyNested, hostileJsonTexts } from '../support/hostile-json.js';

const codec = createOktaEventCodec();
const encodeText = (text: string): EncodeOutcome => encodeOrReject(JSON.parse(text), () => text, codec);
// Node's comparison, not toStrictEqual: vitest takes an own key "constructor" (hostile events have one) for the class.

/** Every JSON text the Avro record holds (free-form fields and `_extra`), to see the numbers as they were written. */
function jsonTextsOf(bytes: Buffer): string[] {
  const texts: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string' && /^[[{]/.test(value)) texts.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(currentSchemaVersion().type.fromBuffer(bytes.subarray(10)));
  return texts;
}

describe('encodeOrReject: one item of Okta output as an event record, or a dead letter with the reason', () => {
  it('encodes events losslessly, with key, eventType and published taken from the event', () => {
    for (const event of fixtureEvents()) {
      const text = JSON.stringify(event);
      const outcome = encodeText(text);
      if (!('event' in outcome)) throw new Error(`rejected: ${outcome.rejected.reason}`);
      expect(codec.decode(outcome.event.value)).toStrictEqual(JSON.parse(text));
      expect(outcome.event.key).toBe(typeof event.uuid === 'string' ? event.uuid : null);
    }
  });

  it.each([
    ['free-form data', '{"uuid":"u1","debugContext":{"debugData":{"n":1e400,"m":-1E+999}}}', ['1e400', '-1E+999']],
    ['a typed double field', '{"uuid":"u1","client":{"geographicalContext":{"geolocation":{"lat":1e400,"lon":2.5}}}}', ['1e400']],
    ['a typed integer field', '{"uuid":"u1","authenticationContext":{"authenticationStep":-1e400}}', ['-1e400']],
    ['an unknown key', '{"uuid":"u1","extra":[1,{"big":123e456}]}', ['123e456']],
    ['the uuid itself', '{"uuid":1e400,"eventType":"x"}', ['1e400']],
  ])('keeps a number too large for a double in %s as its original text: the record rebuilds the event exactly', (_, text, numbers) => {
    const outcome = encodeText(text);
    if (!('event' in outcome)) throw new Error(`rejected: ${outcome.rejected.reason}`);
    // Decoding gives what JSON.parse gives for the original (Infinity), and the record holds the number exactly as it was sent.
    expect(codec.decode(outcome.event.value)).toStrictEqual(JSON.parse(text));
    const written = jsonTextsOf(outcome.event.value).join(' ');
    for (const number of numbers) expect(written).toContain(number);
  });

  it('rejects an event nested deeper than the bound with a clear reason and the original text, at any depth', () => {
    for (const depth of [MAX_NESTING_DEPTH + 2, 5_000, 200_000]) {
      for (const text of [`{"uuid":"deep","debugContext":{"debugData":${deeplyNested(depth)}}}`, `{"uuid":"deep","x":${deeplyNested(depth, '1e400')}}`]) {
        const outcome = encodeText(text);
        expect(outcome).toEqual({ rejected: { json: text, reason: `encoding Okta event deep as Avro: nested too deeply (more than ${MAX_NESTING_DEPTH} levels, or cyclic)` } });
      }
    }
  });

  it('encodes nesting within the bound', () => {
    const text = `{"uuid":"ok","debugContext":{"debugData":${deeplyNested(MAX_NESTING_DEPTH - 10)}}}`;
    const outcome = encodeText(text);
    if (!('event' in outcome)) throw new Error(`rejected: ${outcome.rejected.reason}`);
    expect(codec.decode(outcome.event.value)).toStrictEqual(JSON.parse(text));
  });

  it('rejects items that are not JSON objects, with their text', () => {
    for (const text of ['42', 'null', '"text"', '[{"uuid":"u1"}]', '1e400', deeplyNested(10_000).replace(/^\{"a":/, '').replace(/\}$/, '')]) {
      expect(encodeText(text)).toEqual({ rejected: { json: text, reason: 'not a JSON object' } });
    }
  });

  it('turns anything the codec throws into a rejection, never a thrown error', () => {
    const throwing = (error: unknown): OktaEventCodec => ({ ...codec, encode: () => { throw error; } });
    const text = '{"uuid":"u1"}';
    expect(encodeOrReject(JSON.parse(text), () => text, throwing(new RangeError('Maximum call stack size exceeded')))).toEqual({
      rejected: { json: text, reason: 'encoding an Okta event as Avro: Maximum call stack size exceeded' },
    });
    expect(encodeOrReject(JSON.parse(text), () => text, throwing('a string'))).toEqual({ rejected: { json: text, reason: 'encoding an Okta event as Avro: a string' } });
  });

  it('never throws on seeded hostile events; what it encodes decodes to exactly what JSON.parse gives', () => {
    const seed = 8_2024;
    let encoded = 0;
    for (const text of hostileJsonTexts(seed, 1_000)) {
      const outcome = encodeText(text);
      if ('event' in outcome) {
        encoded += 1;
        expect(isDeepStrictEqual(codec.decode(outcome.event.value), JSON.parse(text)), `seed ${seed}: ${text}`).toBe(true);
      } else {
        expect(outcome.rejected.json).toBe(text);
        expect(outcome.rejected.reason, text).toMatch(/^encoding Okta event/);
      }
    }
    // Lone surrogates, -0, 1e400, __proto__ keys: all of them are carried.
    expect(encoded).toBe(1_000);
  });
});

describe('parseJsonKeepingLargeNumbers', () => {
  it('gives what JSON.parse gives, except numbers too large for a double, kept as their text', () => {
    const text = '{"a":[1e400,-1E+999,2,-0,1e-400,{"__proto__":{"x":1}},[],{}],"b":"x\\"y\\u00e9","a2":0.1,"b":3}';
    const parsed = parseJsonKeepingLargeNumbers(text) as Record<string, unknown>;
    expect(parsed.a).toEqual([new LargeNumber('1e400'), new LargeNumber('-1E+999'), 2, -0, 0, JSON.parse('{"__proto__":{"x":1}}'), [], {}]);
    expect(Object.is((parsed.a as unknown[])[3], -0)).toBe(true);
    expect(Object.keys(parsed)).toEqual(['a', 'b', 'a2']); // a duplicate key keeps its first place and its last value, as in JSON.parse
    expect(parsed.b).toBe(3);
  });

  it('agrees with JSON.parse on every seeded hostile text (large numbers aside) and on the fixtures', () => {
    const asJsonParseGives = (value: unknown): unknown => {
      if (value instanceof LargeNumber) return value.text.startsWith('-') ? -Infinity : Infinity;
      if (Array.isArray(value)) return value.map(asJsonParseGives);
      if (value !== null && typeof value === 'object') {
        const copy: Record<string, unknown> = {};
        for (const [key, member] of Object.entries(value)) Object.defineProperty(copy, key, { value: asJsonParseGives(member), enumerable: true, writable: true, configurable: true });
        return copy;
      }
      return value;
    };
    const texts = [...hostileJsonTexts(77, 1_000), ...fixtureEvents().map((event) => JSON.stringify(event, null, 2))];
    for (const text of texts) expect(isDeepStrictEqual(asJsonParseGives(parseJsonKeepingLargeNumbers(text)), JSON.parse(text)), text).toBe(true);
  });

  it('parses any nesting depth without recursion', () => {
    let value = parseJsonKeepingLargeNumbers(deeplyNested(400_000, '1e400'));
    let depth = 0;
    while (typeof value === 'object' && !(value instanceof LargeNumber)) {
      value = Array.isArray(value) ? value[0] : (value as Record<string, unknown>).a;
      depth += 1;
    }
    expect(depth).toBe(400_000);
    expect(value).toEqual(new LargeNumber('1e400'));
  });

  it('refuses what JSON.parse refuses', () => {
    for (const text of ['', '{', '[1,]', '{"a"}', '{"a":1,}', '1 2', 'tru', '"open', '01', '1.', '-', '{"a":1}}']) {
      expect(() => JSON.parse(text), text).toThrow(SyntaxError);
      expect(() => parseJsonKeepingLargeNumbers(text), text).toThrow(SyntaxError);
    }
  });
});

describe('jsonArrayItemTexts', () => {
  it('gives the text of each item of an array as it was sent', () => {
    expect(jsonArrayItemTexts(' [ {"a":"]},[\\""} ,\r\n 42,null , [1,[2]],"s",1e400 ] ')).toEqual(['{"a":"]},[\\""}', '42', 'null', '[1,[2]]', '"s"', '1e400']);
    expect(jsonArrayItemTexts('[]')).toEqual([]);
    expect(jsonArrayItemTexts(`[${deeplyNested(100_000)}]`)).toEqual([deeplyNested(100_000)]);
  });

  it('agrees with JSON.parse item by item', () => {
    const texts = hostileJsonTexts(5, 300);
    const page = `[${texts.join(',\n')}]`;
    expect(isDeepStrictEqual(jsonArrayItemTexts(page).map((text) => JSON.parse(text)), JSON.parse(page))).toBe(true);
  });
});

describe('encoding a System Log page with hostile items', () => {
  it('encodes the items it can (large numbers kept), rejects the others with their text as Okta sent it, and never throws', () => {
    const deep = `{"uuid":"deep","debugContext":{"debugData":${deeplyNested(5_000)}}}`;
    const large = '{"uuid":"large","client":{"geographicalContext":{"geolocation":{"lat":1e400}}}}';
    const nestedArray = deeplyNested(10_000).replace(/^\{"a":/, '').replace(/\}$/, '');
    const body = Buffer.from(`[{"uuid":"a"},\n  ${deep} , ${large},${nestedArray},  42 ,{"uuid":"b"}]`);
    const page = fromTransferable(encodePageBody(body, 'application/json', codec));
    expect(page.items).toBe(6);
    expect(page.events.map((event) => event.key)).toEqual(['a', 'large', 'b']);
    expect(codec.decode(page.events[1]!.value)).toStrictEqual(JSON.parse(large));
    expect(page.rejected).toEqual([
      { json: deep, reason: `encoding Okta event deep as Avro: nested too deeply (more than ${MAX_NESTING_DEPTH} levels, or cyclic)` },
      { json: nestedArray, reason: 'not a JSON object' },
      { json: '42', reason: 'not a JSON object' },
    ]);
  });
});
