import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc64Avro, schemaFingerprint } from '../../src/avro/crc64-avro.js';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { compileSchemaVersion, currentSchemaVersion } from '../../src/avro/schema-versions.js';
import { singleObjectHeader } from '../../src/avro/wire-format.js';
import { ForwarderError } from '../../src/errors.js';
import { PROJECT_ROOT } from '../support/cli.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const FIXTURES_DIR = join(PROJECT_ROOT, 'test', 'fixtures', 'okta-events');
const FIXTURES = readdirSync(FIXTURES_DIR)
  .filter((file) => file.endsWith('.ndjson'))
  .flatMap((file) =>
    readFileSync(join(FIXTURES_DIR, file), 'utf8')
      .split('\n')
      .map((line, index) => ({ name: `${file}:${index + 1}`, line }))
      .filter(({ line }) => line.trim() !== ''),
  )
  .map(({ name, line }) => ({ name, event: JSON.parse(line) as JsonObject }));
const API_EVENTS = FIXTURES.filter(({ name }) => name.startsWith('okta-api-events.ndjson'));

const codec = createOktaEventCodec();
const roundTrip = (event: Record<string, unknown>): Record<string, unknown> => codec.decode(codec.encode(event));
const fixture = (name: string): JsonObject => structuredClone(FIXTURES.find((f) => f.name === name)!.event);
/** The Avro record itself (typed fields, _absent, _extra), to check where a value was stored. */
const rawRecord = (event: Record<string, unknown>): Record<string, any> =>
  currentSchemaVersion().type.fromBuffer(codec.encode(event).subarray(10)) as Record<string, any>;

/** `object[key] = value`, except that "__proto__" becomes an own key, as JSON.parse makes it. */
function setKey(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

function expectDecodeError(bytes: Buffer, message: RegExp): void {
  let caught: unknown;
  try {
    codec.decode(bytes);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ForwarderError);
  expect((caught as ForwarderError).code).toBe('OF_AVRO_DECODE');
  expect((caught as ForwarderError).message).toMatch(/^decoding an Avro record/);
  expect((caught as ForwarderError).message).toMatch(message);
}

function expectEncodeError(event: unknown, message: RegExp): void {
  let caught: unknown;
  try {
    codec.encode(event as Record<string, unknown>);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ForwarderError);
  expect((caught as ForwarderError).code).toBe('OF_AVRO_ENCODE');
  expect((caught as ForwarderError).message).toMatch(/^encoding /);
  expect((caught as ForwarderError).message).toMatch(message);
}

describe('Okta event Avro codec: lossless round trip', () => {
  it.each(FIXTURES)('gives back exactly the fixture event $name', ({ event }) => {
    expect(roundTrip(event)).toStrictEqual(event);
  });

  it('keeps well-formed Okta events in the typed fields, with nothing left over in _extra', () => {
    for (const { event } of API_EVENTS) {
      const extras: string[] = [];
      const collectExtras = (value: unknown, path: string): void => {
        if (Array.isArray(value)) value.forEach((item, i) => collectExtras(item, `${path}[${i}]`));
        else if (value !== null && typeof value === 'object') {
          const record = value as Record<string, unknown>;
          if (record._extra !== null && record._extra !== undefined) extras.push(`${path}: ${String(record._extra)}`);
          for (const [key, member] of Object.entries(record)) collectExtras(member, `${path}.${key}`);
        }
      };
      collectExtras(rawRecord(event), 'event');
      expect(extras).toEqual([]);
    }
    const record = rawRecord(fixture('okta-api-events.ndjson:1'));
    expect(record.uuid).toBe('3f1c9a52-11d9-11ef-8a3b-5b1f0e2d4c6a');
    expect(record.client.geographicalContext.geolocation.lat).toBe(47.6062);
    expect(record.authenticationContext.authenticationStep).toBe(0);
    expect(record.securityContext.asNumber).toBe(7922);
    expect(record.request.ipChain[0].ip).toBe('198.51.100.23');
    expect(JSON.parse(record.debugContext.debugData as string)).toMatchObject({ requestUri: '/idp/idx/identify' });
    expect(record._absent).toEqual([]);
    expect(record.securityContext._absent).toEqual(['userBehaviors']);
  });

  it('tells a missing field from a field that is null, at every level', () => {
    const event = fixture('okta-api-events.ndjson:9');
    const client = event.client as JsonObject;
    delete event.legacyEventType;
    event.displayMessage = null;
    delete client.zone;
    client.device = null;
    delete (client.geographicalContext as JsonObject).postalCode;
    ((event.target as JsonObject[])[0] as JsonObject).detailEntry = null;
    delete ((event.target as JsonObject[])[0] as JsonObject).alternateId;
    delete (event.device as JsonObject).jailbreak;
    event.outcome = {};
    event.transaction = null;
    delete event.request;

    const decoded = roundTrip(event) as JsonObject;
    expect(decoded).toStrictEqual(event);
    expect(Object.hasOwn(decoded, 'legacyEventType')).toBe(false);
    expect(decoded.displayMessage).toBeNull();
    expect(Object.hasOwn(decoded.client as JsonObject, 'zone')).toBe(false);
    expect(Object.hasOwn(decoded.client as JsonObject, 'device')).toBe(true);
    expect(decoded.outcome).toStrictEqual({});
    expect(decoded.transaction).toBeNull();
    expect(Object.hasOwn(decoded, 'request')).toBe(false);
  });

  it('keeps unknown fields at every level of the event, in the _extra of that level', () => {
    const event = fixture('okta-api-events.ndjson:9');
    event.target = [...(event.target as JsonObject[]), ...(fixture('okta-api-events.ndjson:7').target as JsonObject[])];
    let added = 0;
    const addUnknownFields = (value: Json, depth: number): void => {
      if (Array.isArray(value)) value.forEach((item) => addUnknownFields(item, depth + 1));
      else if (value !== null && typeof value === 'object') {
        for (const member of Object.values(value)) addUnknownFields(member, depth + 1);
        value[`unknownAtDepth${depth}`] = { values: [1, 2.5, 'two', null, true, { depth }] };
        added++;
      }
    };
    addUnknownFields(event, 0);
    expect(added).toBeGreaterThan(15);
    expect(roundTrip(event)).toStrictEqual(event);
    const record = rawRecord(event);
    expect(JSON.parse(record._extra as string)).toEqual({ unknownAtDepth0: event.unknownAtDepth0 });
    expect(JSON.parse(record.client.geographicalContext.geolocation._extra as string)).toHaveProperty('unknownAtDepth3');
    expect(JSON.parse(record.target[1].changeDetails._extra as string)).toHaveProperty('unknownAtDepth3');
  });

  it.each<[string, (event: JsonObject) => void]>([
    ['authenticationStep as a string', (e) => void ((e.authenticationContext as JsonObject).authenticationStep = '0')],
    ['authenticationStep not an integer', (e) => void ((e.authenticationContext as JsonObject).authenticationStep = 0.5)],
    ['asNumber beyond 2^53', (e) => void ((e.securityContext as JsonObject).asNumber = 2 ** 53 + 2)],
    ['asNumber as large as 12345678901234567890', (e) => void ((e.securityContext as JsonObject).asNumber = 12345678901234567890)],
    ['asNumber as -0', (e) => void ((e.securityContext as JsonObject).asNumber = -0)],
    ['latitude as a string', (e) => void ((e.client as JsonObject).geographicalContext = { geolocation: { lat: 'x', lon: 2.35 } })],
    ['latitude as -0', (e) => void ((((e.client as JsonObject).geographicalContext as JsonObject).geolocation as JsonObject).lat = -0)],
    ['target as an object', (e) => void (e.target = {})],
    ['target holding a string', (e) => void (e.target = ['00u1', ...(e.target as Json[])])],
    ['target holding null', (e) => void (e.target = [null])],
    ['ipChain as an object', (e) => void (e.request = { ipChain: {} })],
    ['ipChain holding a number', (e) => void (e.request = { ipChain: [4] })],
    ['version as a number', (e) => void (e.version = 0)],
    ['severity as a boolean', (e) => void (e.severity = true)],
    ['published as epoch milliseconds', (e) => void (e.published = 1715760000000)],
    ['displayMessage as an object', (e) => void (e.displayMessage = { en: 'User login' })],
    ['isProxy as a string', (e) => void ((e.securityContext as JsonObject).isProxy = 'false')],
    ['userBehaviors as a string', (e) => void ((e.securityContext as JsonObject).userBehaviors = 'none')],
    ['userBehaviors holding anything', (e) => void ((e.securityContext as JsonObject).userBehaviors = [1, null, 'x', [], {}])],
    ['debugData as text', (e) => void ((e.debugContext as JsonObject).debugData = 'requestUri=/login')],
    ['debugData as an array', (e) => void ((e.debugContext as JsonObject).debugData = [{ k: 'v' }])],
    ['detailEntry as a number', (e) => void ((e.actor as JsonObject).detailEntry = 42)],
    ['changeDetails as an array', (e) => void (((e.target as JsonObject[])[0] as JsonObject).changeDetails = [])],
    ['client as a string', (e) => void (e.client = 'Computer')],
    ['actor as an array', (e) => void (e.actor = [])],
    ['device_integrator as a string holding JSON', (e) => void (e.device = { device_integrator: '{"WSC":{}}' })],
  ])('keeps a known field holding an unexpected value: %s', (_, change) => {
    const event = fixture('okta-api-events.ndjson:9');
    change(event);
    expect(roundTrip(event)).toStrictEqual(event);
  });

  it('keeps strings of 1 MiB in typed fields, in JSON text and in unknown fields', () => {
    const huge = `${'x'.repeat(1024 * 1024)}é€😀`;
    const event = fixture('okta-api-events.ndjson:1');
    event.displayMessage = huge;
    (event.debugContext as JsonObject).debugData = { payload: huge };
    event.hugeUnknown = [huge];
    const bytes = codec.encode(event);
    expect(bytes.length).toBeGreaterThan(3 * 1024 * 1024);
    expect(codec.decode(bytes)).toStrictEqual(event);
    const small = fixture('okta-api-events.ndjson:2');
    expect(roundTrip(small)).toStrictEqual(small);
  });

  it('keeps unicode, control characters and lone surrogates, in values and in keys', () => {
    const controls = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('') + '\u007f\u2028\u2029\ufeff';
    const event = fixture('okta-api-events.ndjson:3');
    event.displayMessage = `Grüße 日本語 עברית 👩🏽‍💻 e\u0301 ${controls}`;
    (event.actor as JsonObject).displayName = 'lone \ud800 high';
    (event.actor as JsonObject).alternateId = 'lone \udfff low, reversed pair \udc00\ud800';
    (event.debugContext as JsonObject).debugData = { '\ud83d': '\ude00', [controls]: controls, '': 'empty key' };
    setKey(event, 'key with \ud800 lone surrogate', 'kept');

    const decoded = roundTrip(event);
    expect(decoded).toStrictEqual(event);
    const record = rawRecord(event);
    expect(record.displayMessage).toBe(event.displayMessage);
    // UTF-8 cannot hold a lone surrogate: such strings go to _extra as escaped JSON text.
    expect(record.actor.displayName).toBeNull();
    expect(JSON.parse(record.actor._extra as string)).toEqual({ displayName: 'lone \ud800 high', alternateId: 'lone \udfff low, reversed pair \udc00\ud800' });
  });

  it('keeps numbers exactly: -0, the smallest and largest doubles, unsafe integers', () => {
    const event = fixture('okta-api-events.ndjson:4');
    (event.debugContext as JsonObject).debugData = { negativeZero: -0, inArray: [-0, 0], tiny: 5e-324, huge: 1.7976931348623157e308, unsafe: 9007199254740993, exponent: 1e21 };
    event.topLevelNegativeZero = -0;
    const decoded = roundTrip(event) as JsonObject;
    expect(decoded).toStrictEqual(event);
    expect(Object.is((decoded.debugContext as { debugData: JsonObject }).debugData.negativeZero, -0)).toBe(true);
    expect(Object.is(decoded.topLevelNegativeZero, -0)).toBe(true);
  });

  it('keeps keys named __proto__, constructor, _extra and _absent as ordinary keys', () => {
    const event = JSON.parse(
      '{"uuid":"u1","__proto__":{"polluted":true},"constructor":"c","_extra":"{}","_absent":["uuid"],' +
        '"actor":{"__proto__":null,"toString":1},"debugContext":{"debugData":{"__proto__":[1]}}}',
    ) as JsonObject;
    const decoded = roundTrip(event);
    expect(decoded).toStrictEqual(event);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(decoded.actor)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toEqual({ polluted: true });
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('keeps the quirks of real exports: "null" strings, empty client, lower-cased keys, non-ISO published, p_* fields', () => {
    for (const name of ['okta-quirks.ndjson:1', 'okta-quirks.ndjson:3', 'okta-quirks.ndjson:4', 'okta-quirks.ndjson:6']) {
      const event = fixture(name);
      expect(roundTrip(event)).toStrictEqual(event);
    }
    const record = rawRecord(fixture('okta-quirks.ndjson:4'));
    expect(record.published).toBe('2021-01-08 21:28:34.875');
    expect(Object.keys(JSON.parse(record._extra as string) as JsonObject)).toEqual(expect.arrayContaining(['eventtype', 'debugcontext', 'p_log_type', 'p_any_emails']));
    expect(rawRecord(fixture('okta-quirks.ndjson:1')).client.ipAddress).toBe('null');
  });
});

describe('Okta event Avro codec: errors', () => {
  it.each<[string, unknown]>([
    ['null', null],
    ['an array', [{ uuid: 'u1' }]],
    ['a string', '{"uuid":"u1"}'],
    ['the number 42', 42],
    ['undefined', undefined],
    ['a Date', new Date(0)],
    ['a Map', new Map([['uuid', 'u1']])],
    ['a LogEvent', new (class LogEvent {
      uuid = 'u1';
    })()],
  ])('refuses to encode %s, which is not a JSON object', (kind, value) => {
    expectEncodeError(value, new RegExp(`expected a JSON object, got ${kind}$`));
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['NaN in a double field', { uuid: 'u1', client: { geographicalContext: { geolocation: { lat: Number.NaN } } } }, /u1 as Avro: client\.geographicalContext\.geolocation\.lat \(NaN\) is not JSON/],
    ['Infinity in free-form data', { debugContext: { debugData: { n: Number.POSITIVE_INFINITY } } }, /debugContext\.debugData\.n \(Infinity\) is not JSON/],
    ['undefined in a known field', { uuid: undefined }, /uuid \(undefined\) is not JSON/],
    ['undefined in an unknown field', { extra: { deep: [1, undefined] } }, /extra\.deep\[1\] \(undefined\) is not JSON/],
    ['a function', { actor: { detailEntry: { f: () => 1 } } }, /actor\.detailEntry\.f \(a function\) is not JSON/],
    ['a bigint', { securityContext: { asNumber: 10n } }, /securityContext\.asNumber \(a bigint\) is not JSON/],
    ['a Date in a target', { target: [{ id: 'x', when: new Date(0) }] }, /target\[0\]\.when \(a Date\) is not JSON/],
  ])('refuses to encode an event holding %s, naming where', (_, event, message) => {
    expectEncodeError(event, message);
  });

  it('refuses to encode a cyclic event', () => {
    const event: Record<string, unknown> = { uuid: 'u1', debugContext: { debugData: {} } };
    (event.debugContext as { debugData: Record<string, unknown> }).debugData.self = event;
    expectEncodeError(event, /nested too deeply \(more than 1000 levels, or cyclic\)/);
  });

  it('names what is wrong with bytes that are not an Avro record', () => {
    expectDecodeError(Buffer.alloc(0), /not Avro: .*found nothing/);
    expectDecodeError(Buffer.from('{"uuid":"u1"}'), /not Avro: expected the single-object marker c301 or the Confluent magic byte 00, found 7b227575/);
    expectDecodeError(Buffer.from([0xc3, 0x01, 0x8f, 0x5c]), /truncated single-object header: 4 bytes/);
    expectDecodeError('c301' as unknown as Buffer, /expected bytes, got a string/);
  });

  it('names an unknown schema fingerprint', () => {
    const bytes = codec.encode({ uuid: 'u1' });
    bytes.writeBigUInt64LE(0x0123456789abcdefn, 2);
    expectDecodeError(bytes, /unknown schema fingerprint 0x0123456789abcdef; known: 0x[0-9a-f]{16} \(version 1\)/);
  });

  it('reports a truncated record at every length, and bytes after the end', () => {
    const bytes = codec.encode(fixture('okta-api-events.ndjson:7'));
    for (let length = 10; length < bytes.length; length++) {
      expectDecodeError(bytes.subarray(0, length), /\(schema version 1\): truncated/);
    }
    expectDecodeError(Buffer.concat([bytes, Buffer.from([0, 0])]), /2 bytes after the end of the record/);
  });

  it('reports garbage after a valid header as a decoding error, never anything else', () => {
    const random = seededRandom(99);
    const events = API_EVENTS.map(({ event }) => codec.encode(event));
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(events[i % events.length]!);
      const changes = 1 + Math.floor(random() * 4);
      for (let c = 0; c < changes; c++) bytes[10 + Math.floor(random() * (bytes.length - 10))] = Math.floor(random() * 256);
      try {
        expect(typeof codec.decode(bytes)).toBe('object');
      } catch (error) {
        expect((error as ForwarderError).code).toBe('OF_AVRO_DECODE');
      }
    }
  });

  it('names JSON text fields whose content is not JSON', () => {
    const version = currentSchemaVersion();
    const record = version.mapping.toAvro({ debugContext: { debugData: { a: 1 } } });
    (record.debugContext as Record<string, unknown>).debugData = '{"a":';
    const bytes = Buffer.concat([singleObjectHeader(version.fingerprint), version.type.toBuffer(record)]);
    expectDecodeError(bytes, /\(schema version 1\): LogDebugContext\.debugData holds invalid JSON text/);
  });
});

describe('Okta event Avro codec: schema fingerprint and framing', () => {
  it('computes CRC-64-AVRO as the Avro specification gives it (its published test vectors)', () => {
    const fingerprint = (text: string): bigint => BigInt.asIntN(64, crc64Avro(Buffer.from(text)));
    expect(fingerprint('"null"')).toBe(7195948357588979594n);
    expect(fingerprint('"int"')).toBe(8247732601305521295n);
    expect(fingerprint('"string"')).toBe(-8142146995180207161n);
    expect(fingerprint('{"name":"foo","type":"record","fields":[]}')).toBe(-4824392279771201922n);
  });

  it('writes the single-object header of the specification: C3 01, then the fingerprint little-endian', () => {
    expect(singleObjectHeader(schemaFingerprint('"int"')).toString('hex')).toBe('c3018f5c393f1ad57572');
    const bytes = codec.encode({ uuid: 'u1' });
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0xc3, 0x01]));
    expect(bytes.subarray(2, 10)).toEqual(codec.fingerprint);
  });

  it('fingerprints the Parsing Canonical Form of the schema', () => {
    const { parsingCanonicalForm } = currentSchemaVersion();
    expect(parsingCanonicalForm.startsWith('{"name":"dev.oktaforwarder.okta.LogEvent","type":"record","fields":[{"name":"uuid","type":["null","string"]}')).toBe(true);
    expect(parsingCanonicalForm).not.toMatch(/"doc"|"default"|"namespace"|"logicalType"|\s/);
    expect(parsingCanonicalForm).toContain('{"name":"geographicalContext","type":["null","dev.oktaforwarder.okta.LogGeographicalContext"]}');
    expect(codec.fingerprint).toEqual(schemaFingerprint(parsingCanonicalForm));
  });

  it('keeps schema version 1 frozen: records already in Kafka name it by this fingerprint', () => {
    expect(codec.schemaVersion).toBe(1);
    expect(codec.fingerprint.toString('hex')).toBe('1d47ec2e0c95c765');
  });

  it('hands out a copy of the fingerprint, so callers cannot corrupt the records it writes', () => {
    const other = createOktaEventCodec();
    other.fingerprint.fill(0);
    expect(other.decode(other.encode({ uuid: 'u1' }))).toEqual({ uuid: 'u1' });
  });
});

describe('Okta event Avro codec: Confluent wire format', () => {
  const schemaText = readFileSync(join(PROJECT_ROOT, 'schemas', 'okta-log-event.avsc'), 'utf8');
  const confluent = (schemaId: number, body: Buffer): Buffer => {
    const header = Buffer.alloc(5);
    header.writeInt32BE(schemaId, 1);
    return Buffer.concat([header, body]);
  };

  it('decodes the Confluent wire format with the schema its resolver gives, asking once per id', () => {
    const asked: number[] = [];
    const withRegistry = createOktaEventCodec({ confluentSchemas: (id) => (asked.push(id), id === 42 ? (JSON.parse(schemaText) as object) : undefined) });
    for (const { event } of FIXTURES) {
      expect(withRegistry.decode(confluent(42, codec.encode(event).subarray(10)))).toStrictEqual(event);
    }
    expect(asked).toEqual([42]);
    expect(withRegistry.decode(codec.encode({ uuid: 'still reads single-object' }))).toEqual({ uuid: 'still reads single-object' });
  });

  it('reads a registry copy of the schema without its attributes as the known version it is', () => {
    const stripped = JSON.parse(JSON.stringify(currentSchemaVersion().type.schema())) as object;
    const withRegistry = createOktaEventCodec({ confluentSchemas: () => stripped });
    const event = fixture('okta-api-events.ndjson:4');
    expect(withRegistry.decode(confluent(7, codec.encode(event).subarray(10)))).toStrictEqual(event);
  });

  it('decodes records written with a newer compatible schema that only the registry knows', () => {
    const newer = JSON.parse(schemaText) as { fields: object[] };
    newer.fields.splice(5, 0, { name: 'riskLevel', type: ['null', 'string'], default: null });
    const writer = compileSchemaVersion(newer, undefined);
    const event = { ...fixture('okta-api-events.ndjson:4'), riskLevel: 'HIGH' };
    const body = writer.type.toBuffer(writer.mapping.toAvro(event));
    const withRegistry = createOktaEventCodec({ confluentSchemas: () => newer });
    expect(withRegistry.decode(confluent(8, body))).toStrictEqual(event);
  });

  it('names a Confluent record it cannot read: no resolver, unknown id, truncated header', () => {
    expectDecodeError(confluent(42, Buffer.from([0])), /Confluent wire format \(schema id 42\), but no schema registry is configured to look the id up: set schemaRegistry\.url/);
    const withRegistry = createOktaEventCodec({ confluentSchemas: () => undefined });
    expect(() => withRegistry.decode(confluent(43, Buffer.from([0])))).toThrow(/unknown Confluent schema id 43/);
    expect(() => withRegistry.decode(Buffer.from([0, 0, 1]))).toThrow(/truncated Confluent header: 3 bytes/);
    const notLossless = createOktaEventCodec({ confluentSchemas: () => ({ type: 'record', name: 'Other', fields: [{ name: 'uuid', type: 'string' }] }) });
    expect(() => notLossless.decode(confluent(44, Buffer.from([0])))).toThrow(/Confluent schema id 44 is not a lossless LogEvent schema/);
  });
});

describe('Okta event Avro codec: encoding in the Confluent wire format', () => {
  const schemaText = readFileSync(join(PROJECT_ROOT, 'schemas', 'okta-log-event.avsc'), 'utf8');
  const writer = createOktaEventCodec({ encodeWithConfluentId: 0x01020304 });
  const reader = createOktaEventCodec({ confluentSchemas: (id) => (id === 0x01020304 ? schemaText : undefined) });

  it('writes 00, the 4-byte big-endian id, then the same body as single-object encoding', () => {
    expect(writer.confluentSchemaId).toBe(0x01020304);
    expect(codec.confluentSchemaId).toBeUndefined();
    for (const { event } of FIXTURES) {
      const bytes = writer.encode(event);
      expect(bytes.subarray(0, 5)).toEqual(Buffer.from([0x00, 0x01, 0x02, 0x03, 0x04]));
      expect(bytes.subarray(5)).toEqual(codec.encode(event).subarray(10));
    }
  });

  it('gives back exactly every fixture event, read with the schema the registry holds for the id', () => {
    for (const { name, event } of FIXTURES) {
      expect(reader.decode(writer.encode(event)), name).toStrictEqual(event);
    }
  });

  it('keeps the body identical for an event larger than the scratch buffer', () => {
    const event = { ...fixture('okta-api-events.ndjson:4'), displayMessage: 'x'.repeat(200_000) };
    const bytes = writer.encode(event);
    expect(bytes.subarray(5).equals(codec.encode(event).subarray(10))).toBe(true);
    expect(reader.decode(bytes)).toStrictEqual(event);
    expect(reader.decode(writer.encode({ uuid: 'small again' }))).toEqual({ uuid: 'small again' });
  });

  it('refuses an id the wire format cannot hold', () => {
    for (const id of [-1, 1.5, 2 ** 31]) {
      expect(() => createOktaEventCodec({ encodeWithConfluentId: id })).toThrow(/a Confluent schema id is an integer from 0 to 2147483647/);
    }
  });
});

describe('Okta event Avro codec: generated variants of the fixtures', () => {
  it('gives back exactly each of 5,000 variants with fields deleted, nulled, retyped and added at random depths', () => {
    const random = seededRandom(20240515);
    for (let i = 0; i < 5000; i++) {
      const event = structuredClone(FIXTURES[Math.floor(random() * FIXTURES.length)]!.event);
      const mutations = 1 + Math.floor(random() * 6);
      for (let m = 0; m < mutations; m++) mutate(event, random);
      const decoded = roundTrip(event);
      if (!isDeepStrictEqualJson(decoded, event)) {
        // The failing variant, printed whole so that it can become a fixture.
        expect({ variant: i, decoded }).toStrictEqual({ variant: i, decoded: event });
      }
    }
  });
});

/** mulberry32: small, fast, and the same sequence on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TRICKY_STRINGS = ['', 'null', '0', 'true', ' ', '\u0000', '\n\t\r', '\u2028', '\ud800', '\udfff', '😀', 'é', '日本', '\\"', '{"a":1}', 'x'.repeat(300)];
const TRICKY_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '_extra', '_absent', '', 'uuid', 'eventtype', 'p_row_id', '\ud800', 'a.b', '0', ...['lat', 'target', 'debugData', 'ipChain']];
const TRICKY_NUMBERS = [0, -0, 1, -1, 0.5, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53) - 2, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 12345678901234567890];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function randomJson(random: () => number, depth: number): Json {
  const kind = Math.floor(random() * (depth > 2 ? 6 : 8));
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random() < 0.5;
    case 2:
      return random() < 0.5 ? pick(random, TRICKY_NUMBERS) : (random() - 0.5) * 10 ** Math.floor(random() * 12);
    case 3:
      return pick(random, TRICKY_STRINGS);
    case 4:
      return Array.from({ length: Math.floor(random() * 4) }, () => String.fromCharCode(Math.floor(random() * 0x10000))).join('');
    case 5:
      return Math.floor(random() * 1000);
    case 6:
      return Array.from({ length: Math.floor(random() * 4) }, () => randomJson(random, depth + 1));
    default: {
      const object: JsonObject = {};
      for (let i = Math.floor(random() * 4); i > 0; i--) setKey(object, pick(random, TRICKY_KEYS), randomJson(random, depth + 1));
      return object;
    }
  }
}

/** Every object and array in the event, with the event itself. */
function containers(value: Json, found: (JsonObject | Json[])[] = []): (JsonObject | Json[])[] {
  if (value !== null && typeof value === 'object') {
    found.push(value);
    for (const member of Object.values(value)) containers(member, found);
  }
  return found;
}

/** One random change somewhere in the event: delete, null, retype, or add an unknown key. */
function mutate(event: JsonObject, random: () => number): void {
  const container = pick(random, containers(event));
  const keys = Object.keys(container);
  const action = Math.floor(random() * 5);
  if (Array.isArray(container)) {
    if (action === 0 && container.length > 0) container.splice(Math.floor(random() * container.length), 1);
    else if (action === 1 && container.length > 0) container[Math.floor(random() * container.length)] = null;
    else container.push(randomJson(random, 1));
    return;
  }
  const key = keys.length > 0 ? pick(random, keys) : undefined;
  if (action === 0 && key !== undefined) delete container[key];
  else if (action === 1 && key !== undefined) container[key] = null;
  else if (action === 2 && key !== undefined) setKey(container, key, randomJson(random, 1));
  else if (action === 3 && key !== undefined && typeof container[key] === 'string') container[key] = pick(random, TRICKY_STRINGS);
  else setKey(container, random() < 0.5 ? pick(random, TRICKY_KEYS) : `unknown_${Math.floor(random() * 100)}`, randomJson(random, 1));
}

/** Deep equality of JSON values that tells -0 from 0 and ignores key order, for the hot loop (expect is slow on thousands). */
function isDeepStrictEqualJson(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  return aKeys.every((key) => Object.hasOwn(b, key) && isDeepStrictEqualJson((a as JsonObject)[key], (b as JsonObject)[key]));
}
