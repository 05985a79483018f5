import { NotJsonError, toJsonText } from './json-text.js';
import type { ValueMapping } from './value-mappings.js';

/**
 * The encode and decode functions of one record type, generated from its fields the way avsc
 * generates its own readers and writers. Straight-line code with constant property names gives
 * every record type its own fast object shape; measured on typical events it made encoding about
 * 1.25 times and decoding about 1.4 times faster than a loop over the fields (bench/avro.ts).
 * Field names enter the generated code only as JSON string literals.
 *
 * For fields `id` (a string) and `detail` (JSON text) the encoder reads:
 *
 *   var v0 = o["id"];
 *   if (v0 === undefined) { if (hasOwn(o, "id")) throw notJson(); (absent || (absent = [])).push("id"); v0 = null; }
 *   else { present++; if (v0 !== null) { t = m0.toAvro(v0); if (t === MISFIT) { (extra || (extra = create(null)))["id"] = v0; v0 = null; } else v0 = t; } }
 *   var v1 = o["detail"]; …
 *   if (present !== keys(o).length) extra = collectUnknownKeys(o, extra);
 *   return { "id": v0, "detail": v1, _absent: absent || NO_NAMES, _extra: extra === undefined ? null : toJsonText(extra) };
 *
 * and the decoder:
 *
 *   var absent = r._absent, o;
 *   if (absent.length === 0) o = { "id": r["id"], "detail": r["detail"] === null ? null : m1.fromAvro(r["detail"]) };
 *   else { o = {}; if (!absent.includes("id")) o["id"] = r["id"]; … }
 *   if (r._extra !== null) applyExtra(o, r._extra);
 *   return o;
 */

/** A field of a record other than the bookkeeping ones. */
export interface KnownField {
  readonly name: string;
  readonly mapping: ValueMapping;
}

export type RecordEncoder = (object: Record<string, unknown>) => Record<string, unknown>;
export type RecordDecoder = (record: Record<string, unknown>) => Record<string, unknown>;

const NO_NAMES: readonly string[] = Object.freeze([]);

/** The generated code gets everything it calls as parameters: new Function sees only globals. */
export function compileRecordEncoder(fields: readonly KnownField[], misfit: symbol): RecordEncoder {
  const knownNames = new Set(fields.map((field) => field.name));
  const collectUnknownKeys = (object: Record<string, unknown>, extra: Record<string, unknown> | undefined): Record<string, unknown> | undefined => {
    for (const key in object) {
      // Null prototype: an unknown key "__proto__" is then an ordinary key, kept like any other.
      if (!knownNames.has(key)) (extra ??= Object.create(null) as Record<string, unknown>)[key] = object[key];
    }
    return extra;
  };
  // Real events rarely have unknown keys: the encoder looks for them only when the object has
  // more keys than the known fields it holds.
  const body = fields.map(({ name }, i) => {
    const key = JSON.stringify(name);
    return `var v${i} = o[${key}];
  if (v${i} === undefined) { if (hasOwn(o, ${key})) throw notJson(); (absent || (absent = [])).push(${key}); v${i} = null; }
  else { present++; if (v${i} !== null) { t = m${i}.toAvro(v${i}); if (t === MISFIT) { (extra || (extra = create(null)))[${key}] = v${i}; v${i} = null; } else v${i} = t; } }`;
  });
  const result = fields.map(({ name }, i) => `${JSON.stringify(name)}: v${i}`);
  const source = `${mappingVariables(fields)}
return function encodeRecord(o) {
  var absent, extra, t, present = 0;
  ${body.join('\n  ')}
  if (present !== keys(o).length) extra = collectUnknownKeys(o, extra);
  return { ${[...result, '_absent: absent || NO_NAMES', '_extra: extra === undefined ? null : toJsonText(extra)'].join(', ')} };
};`;
  const factory = new Function('M', 'MISFIT', 'NO_NAMES', 'hasOwn', 'keys', 'create', 'notJson', 'toJsonText', 'collectUnknownKeys', source) as (...runtime: unknown[]) => RecordEncoder;
  return factory(mappings(fields), misfit, NO_NAMES, Object.hasOwn, Object.keys, Object.create, () => new NotJsonError(), toJsonText, collectUnknownKeys);
}

/** `applyExtra(object, text)` adds the keys of `_extra`; it runs last, so that they replace the nulls of known fields whose value did not fit. */
export function compileRecordDecoder(fields: readonly KnownField[], applyExtra: (object: Record<string, unknown>, extraText: string) => void): RecordDecoder {
  const value = ({ name, mapping }: KnownField, i: number): string => {
    const read = `r[${JSON.stringify(name)}]`;
    return mapping.decodesToItself ? read : `(${read} === null ? null : m${i}.fromAvro(${read}))`;
  };
  const allPresent = fields.map((field, i) => `${JSON.stringify(field.name)}: ${value(field, i)}`);
  const somePresent = fields.map((field, i) => `if (!absent.includes(${JSON.stringify(field.name)})) o[${JSON.stringify(field.name)}] = ${value(field, i)};`);
  const source = `${mappingVariables(fields)}
return function decodeRecord(r) {
  var absent = r._absent, o;
  if (absent.length === 0) {
    o = { ${allPresent.join(', ')} };
  } else {
    o = {};
    ${somePresent.join('\n    ')}
  }
  if (r._extra !== null) applyExtra(o, r._extra);
  return o;
};`;
  const factory = new Function('M', 'applyExtra', source) as (...runtime: unknown[]) => RecordDecoder;
  return factory(mappings(fields), applyExtra);
}

function mappings(fields: readonly KnownField[]): ValueMapping[] {
  return fields.map((field) => field.mapping);
}

/** One variable per field mapping, so that each call site in the generated code sees one mapping. */
function mappingVariables(fields: readonly KnownField[]): string {
  return fields.length === 0 ? '' : `var ${fields.map((_, i) => `m${i} = M[${i}]`).join(', ')};`;
}
