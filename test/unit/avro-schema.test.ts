import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SchemaConventionError } from '../../src/avro/event-mapping.js';
import { AvroOktaEventCodec } from '../../src/avro/okta-event-codec.js';
import { compileSchemaVersion, currentSchemaVersion, knownSchemaVersions } from '../../src/avro/schema-versions.js';
import { PROJECT_ROOT } from '../support/cli.js';

interface FieldSchema {
  name: string;
  type: unknown;
  default?: unknown;
}
interface RecordSchema {
  type: 'record';
  name: string;
  doc?: string;
  fields: FieldSchema[];
}

const schema = JSON.parse(readFileSync(join(PROJECT_ROOT, 'schemas', 'okta-log-event.avsc'), 'utf8')) as RecordSchema;

/** Every record type defined in the schema, by name. */
function records(node: unknown, found = new Map<string, RecordSchema>()): Map<string, RecordSchema> {
  if (Array.isArray(node)) node.forEach((item) => records(item, found));
  else if (node !== null && typeof node === 'object') {
    const definition = node as Partial<RecordSchema> & { items?: unknown; type?: unknown };
    if (definition.type === 'record') {
      found.set(definition.name!, definition as RecordSchema);
      definition.fields!.forEach((field) => records(field.type, found));
    } else {
      records(definition.items, found);
      records(definition.type, found);
    }
  }
  return found;
}

const RECORDS = records(schema);
const known = (record: RecordSchema): FieldSchema[] => record.fields.filter((field) => !field.name.startsWith('_'));

describe('okta-log-event.avsc', () => {
  it("covers every object and field of Okta's LogEvent (OpenAPI spec and System Log docs)", () => {
    const fields = Object.fromEntries([...RECORDS].map(([name, record]) => [name, known(record).map((field) => field.name).sort()]));
    expect(fields).toEqual({
      LogEvent: ['actor', 'authenticationContext', 'client', 'debugContext', 'device', 'displayMessage', 'eventType', 'legacyEventType', 'outcome', 'published', 'request', 'securityContext', 'severity', 'target', 'transaction', 'uuid', 'version'],
      LogActor: ['alternateId', 'detailEntry', 'displayName', 'id', 'type'],
      LogClient: ['device', 'geographicalContext', 'id', 'ipAddress', 'userAgent', 'zone'],
      LogUserAgent: ['browser', 'os', 'rawUserAgent'],
      LogGeographicalContext: ['city', 'country', 'geolocation', 'postalCode', 'state'],
      LogGeolocation: ['lat', 'lon'],
      LogDevice: ['device_integrator', 'disk_encryption_type', 'id', 'jailbreak', 'managed', 'name', 'os_platform', 'os_version', 'registered', 'screen_lock_type', 'secure_hardware_present'],
      LogAuthenticationContext: ['authenticationProvider', 'authenticationStep', 'credentialProvider', 'credentialType', 'externalSessionId', 'interface', 'issuer'],
      LogIssuer: ['id', 'type'],
      LogSecurityContext: ['asNumber', 'asOrg', 'domain', 'isProxy', 'isp', 'userBehaviors'],
      LogOutcome: ['reason', 'result'],
      LogTarget: ['alternateId', 'changeDetails', 'detailEntry', 'displayName', 'id', 'type'],
      LogTargetChangeDetails: ['from', 'to'],
      LogTransaction: ['detail', 'id', 'type'],
      LogDebugContext: ['debugData'],
      LogRequest: ['ipChain'],
      LogIpAddress: ['geographicalContext', 'ip', 'source', 'version'],
    });
  });

  it('makes every field optional (a union with null first, default null), with _absent and _extra in every record', () => {
    for (const record of RECORDS.values()) {
      for (const field of known(record)) {
        expect([record.name, field.name, (field.type as unknown[])[0], field.default]).toEqual([record.name, field.name, 'null', null]);
      }
      expect(record.fields.slice(-2).map((field) => field.name)).toEqual(['_absent', '_extra']);
    }
  });

  it('stores free-form objects as JSON text and keeps enumerations as plain strings', () => {
    const jsonText = [...RECORDS.values()].flatMap((record) =>
      known(record)
        .filter((field) => {
          const branch = (field.type as [unknown, { logicalType?: string; items?: { logicalType?: string } }])[1];
          return branch.logicalType === 'json' || branch.items?.logicalType === 'json';
        })
        .map((field) => `${record.name}.${field.name}`),
    );
    expect(jsonText.sort()).toEqual([
      'LogActor.detailEntry',
      'LogDebugContext.debugData',
      'LogDevice.device_integrator',
      'LogSecurityContext.userBehaviors',
      'LogTarget.detailEntry',
      'LogTargetChangeDetails.from',
      'LogTargetChangeDetails.to',
      'LogTransaction.detail',
    ]);
    expect(JSON.stringify(schema)).not.toContain('"enum"');
  });

  it('states its version and how it may evolve in its doc', () => {
    expect(schema.doc).toMatch(/Schema version 1\./);
    expect(schema.doc).toMatch(/compatible only: a new version adds fields, each a union with null first and default null/);
    expect(currentSchemaVersion().version).toBe(1);
  });

  it('can read records of every known version through Avro schema resolution, each version with its own fingerprint', () => {
    const versions = knownSchemaVersions();
    const current = currentSchemaVersion();
    expect(new Set(versions.map((version) => version.fingerprint.toString('hex'))).size).toBe(versions.length);
    for (const version of versions) {
      const resolver = current.type.createResolver(version.type);
      const written = version.type.toBuffer(version.mapping.toAvro({ uuid: 'u1', target: [{ id: 't1' }] }));
      expect(current.mapping.fromAvro(current.type.fromBuffer(written, resolver))).toMatchObject({ uuid: 'u1', target: [{ id: 't1' }] });
    }
  });

  it('decodes records of an older version after a newer one is added, each with the schema that wrote it', () => {
    const version1 = currentSchemaVersion();
    const newer = structuredClone(schema);
    newer.fields.splice(7, 0, { name: 'riskLevel', type: ['null', 'string'], default: null });
    const version2 = compileSchemaVersion(newer, 2);
    const before = new AvroOktaEventCodec([version1], undefined);
    const after = new AvroOktaEventCodec([version1, version2], undefined);
    expect(after.schemaVersion).toBe(2);

    const withRisk = { uuid: 'u1', riskLevel: 'HIGH' };
    const withoutRisk = { uuid: 'u2' };
    expect(after.decode(before.encode(withRisk))).toStrictEqual(withRisk);
    // Resolved into version 2, the field version 1 did not know would come back as null.
    expect(after.decode(before.encode(withoutRisk))).toStrictEqual(withoutRisk);
    expect(after.decode(after.encode(withRisk))).toStrictEqual(withRisk);
    expect(() => before.decode(after.encode(withRisk))).toThrow(/unknown schema fingerprint/);
  });

  it.each<[string, (schema: RecordSchema) => void, RegExp]>([
    ['a field that cannot hold null', (s) => void (s.fields[0]!.type = 'string'), /field LogEvent\.uuid is not a union \["null", T\]/],
    ['a record without _absent', (s) => void (s.fields = s.fields.filter((f) => f.name !== '_absent')), /record LogEvent lacks _absent/],
    ['a record without _extra', (s) => void (s.fields = s.fields.filter((f) => f.name !== '_extra')), /record LogEvent lacks _extra/],
    ['an enum', (s) => void (s.fields[4]!.type = ['null', { type: 'enum', name: 'LogSeverity', symbols: ['INFO'] }]), /unsupported or undefined type "enum"/],
    ['a map', (s) => void (s.fields[4]!.type = ['null', { type: 'map', values: 'string' }]), /unsupported or undefined type "map"/],
  ])('refuses a schema that could not be lossless: %s', (_, change, message) => {
    const broken = structuredClone(schema);
    change(broken);
    expect(() => compileSchemaVersion(broken, 2)).toThrow(SchemaConventionError);
    expect(() => compileSchemaVersion(broken, 2)).toThrow(message);
  });
});
