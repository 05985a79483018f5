import {
  ABSENT_FIELD,
  ArrayMapping,
  BOOLEAN,
  DOUBLE,
  EXTRA_FIELD,
  INT,
  jsonTextMapping,
  LONG,
  RecordMapping,
  STRING,
  type ValueMapping,
} from './value-mappings.js';
import type { KnownField } from './record-functions.js';

/**
 * The lossless mapping between any JSON object and the Avro value of an okta-log-event schema,
 * compiled once per schema version from the schema itself (no field is handled by name, except
 * the two bookkeeping fields). The conventions it relies on, checked when compiling:
 *
 * - every field of a record is a union `["null", T]`: JSON null is Avro null;
 * - every record has `_absent` (array of strings: fields missing from the JSON object, so that a
 *   missing key and a null value stay distinct) and `_extra` (null, or the JSON text of an object
 *   with the keys that the typed fields do not hold: unknown keys, and known keys whose value
 *   does not fit the field's type, e.g. `"authenticationStep": "0"`; that field is then null);
 * - T is a record, an array, boolean, int, long, double, string, or a string with
 *   `"logicalType": "json"` holding JSON text (free-form objects, values of unspecified type).
 */

/** A schema that the mapping cannot be compiled for (it breaks the conventions above). */
export class SchemaConventionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaConventionError';
  }
}

/** The mapping of a whole event: the top-level record of the schema. */
export interface EventMapping {
  /** The Avro value of a JSON object. Throws NotJsonError if the object holds a value that is not JSON. */
  toAvro(event: Record<string, unknown>): Record<string, unknown>;
  /** The JSON object back from the Avro value. Throws MalformedRecordError. */
  fromAvro(record: unknown): Record<string, unknown>;
}

type SchemaNode = string | readonly SchemaNode[] | { readonly [attribute: string]: unknown };

/** Compiles the mapping for a parsed .avsc schema whose top level is a record following the conventions above. */
export function compileEventMapping(schema: unknown): EventMapping {
  const compiler = new MappingCompiler();
  const root = compiler.compile(schema as SchemaNode, '', '');
  if (!(root instanceof RecordMapping)) throw new SchemaConventionError('the top-level type is not a record');
  return {
    toAvro: (event) => root.objectToAvro(event),
    fromAvro: (record) => root.fromAvro(record),
  };
}

class MappingCompiler {
  private readonly records = new Map<string, RecordMapping>();

  /** `where` names the place in the schema, for messages. */
  compile(node: SchemaNode, namespace: string, where: string): ValueMapping {
    if (typeof node === 'string') return this.named(node, namespace);
    if (Array.isArray(node)) throw new SchemaConventionError(`a union is allowed only as a field type ["null", T], found ${JSON.stringify(node)}`);
    const definition = node as { readonly [attribute: string]: unknown };
    switch (definition.type) {
      case 'record':
        return this.record(definition, namespace);
      case 'array':
        return new ArrayMapping(this.compile(definition.items as SchemaNode, namespace, `${where}[]`));
      case 'string':
        return definition.logicalType === 'json' ? jsonTextMapping(where) : STRING;
      default:
        if (typeof definition.type === 'string') return this.named(definition.type, namespace);
        return this.compile(definition.type as SchemaNode, namespace, where);
    }
  }

  private named(name: string, namespace: string): ValueMapping {
    switch (name) {
      case 'string':
        return STRING;
      case 'boolean':
        return BOOLEAN;
      case 'double':
        return DOUBLE;
      case 'long':
        return LONG;
      case 'int':
        return INT;
      default: {
        const record = this.records.get(fullName(name, namespace)) ?? this.records.get(name);
        if (!record) throw new SchemaConventionError(`unsupported or undefined type ${JSON.stringify(name)} (only records, arrays, boolean, int, long, double and string are mapped)`);
        return record;
      }
    }
  }

  private record(definition: { readonly [attribute: string]: unknown }, outerNamespace: string): RecordMapping {
    const name = String(definition.name);
    const namespace = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : typeof definition.namespace === 'string' ? definition.namespace : outerNamespace;
    const mapping = new RecordMapping(name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : name);
    this.records.set(fullName(name, namespace), mapping);
    const fields = (definition.fields ?? []) as readonly { readonly name: string; readonly type: SchemaNode }[];
    checkBookkeeping(mapping.name, fields);
    const known: KnownField[] = [];
    for (const field of fields) {
      if (field.name === ABSENT_FIELD || field.name === EXTRA_FIELD) continue;
      // In an object literal, "__proto__" would set the prototype of the decoded object.
      if (field.name === '__proto__') throw new SchemaConventionError(`record ${mapping.name} has a field named __proto__`);
      const union = field.type;
      if (!Array.isArray(union) || union.length !== 2 || union[0] !== 'null') {
        throw new SchemaConventionError(`field ${mapping.name}.${field.name} is not a union ["null", T]: a JSON null could not be kept`);
      }
      known.push({ name: field.name, mapping: this.compile(union[1] as SchemaNode, namespace, `${mapping.name}.${field.name}`) });
    }
    mapping.setFields(known);
    return mapping;
  }
}

function checkBookkeeping(record: string, fields: readonly { readonly name: string; readonly type: SchemaNode }[]): void {
  const absent = fields.find((field) => field.name === ABSENT_FIELD)?.type as { type?: unknown; items?: unknown } | undefined;
  if (absent?.type !== 'array' || absent.items !== 'string') {
    throw new SchemaConventionError(`record ${record} lacks ${ABSENT_FIELD} (an array of strings): a missing key and a null value could not be told apart`);
  }
  const extra = fields.find((field) => field.name === EXTRA_FIELD)?.type;
  const extraText = Array.isArray(extra) ? (extra[1] as { type?: unknown } | string | undefined) : undefined;
  if (!Array.isArray(extra) || extra.length !== 2 || extra[0] !== 'null' || (extraText !== 'string' && (extraText as { type?: unknown })?.type !== 'string')) {
    throw new SchemaConventionError(`record ${record} lacks ${EXTRA_FIELD} (["null", string]): unknown keys could not be kept`);
  }
}

function fullName(name: string, namespace: string): string {
  return name.includes('.') || namespace === '' ? name : `${namespace}.${name}`;
}
