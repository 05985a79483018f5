import { isPlainObject, setOwn, toJsonText } from './json-text.js';
import { compileRecordDecoder, compileRecordEncoder, type KnownField, type RecordDecoder, type RecordEncoder } from './record-functions.js';

/**
 * How each kind of Avro type holds a JSON value, and gives it back: the pieces that
 * event-mapping.ts assembles from a schema (the conventions are described there).
 *
 * A value "fits" a type only if Avro keeps it exactly: strings must be well-formed UTF-16 (a lone
 * surrogate would become U+FFFD in UTF-8), integers safe and not -0, doubles finite, records
 * plain objects. An array fits only if every item does; otherwise the whole array goes to the
 * `_extra` of the record that holds it.
 */

/** One Avro type's way of holding a JSON value. */
export interface ValueMapping {
  /** The Avro value of a JSON value, or MISFIT if the value does not fit this type. Throws NotJsonError for values that are not JSON. */
  toAvro(value: unknown): unknown;
  /** The JSON value of an Avro value written by toAvro. Throws MalformedRecordError. */
  fromAvro(value: unknown): unknown;
  /** True if fromAvro gives back its argument, so that decoders can skip the call. */
  readonly decodesToItself?: boolean;
}

export const MISFIT: unique symbol = Symbol('does not fit the Avro type');

/** An Avro record whose content breaks the conventions (invalid JSON text, for example). */
export class MalformedRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedRecordError';
  }
}

export const ABSENT_FIELD = '_absent';
export const EXTRA_FIELD = '_extra';

const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

const IDENTITY = (value: unknown): unknown => value;

export const STRING: ValueMapping = {
  toAvro: (value) => (typeof value === 'string' && isWellFormed(value) ? value : MISFIT),
  fromAvro: IDENTITY,
  decodesToItself: true,
};
export const BOOLEAN: ValueMapping = {
  toAvro: (value) => (typeof value === 'boolean' ? value : MISFIT),
  fromAvro: IDENTITY,
  decodesToItself: true,
};
export const DOUBLE: ValueMapping = {
  toAvro: (value) => (typeof value === 'number' && Number.isFinite(value) ? value : MISFIT),
  fromAvro: IDENTITY,
  decodesToItself: true,
};
// avsc reads and writes longs as JS numbers, so only safe integers survive; -0 would come back as 0.
export const LONG: ValueMapping = {
  toAvro: (value) => (Number.isSafeInteger(value) && !Object.is(value, -0) ? value : MISFIT),
  fromAvro: IDENTITY,
  decodesToItself: true,
};
export const INT: ValueMapping = {
  toAvro: (value) => (Number.isInteger(value) && (value as number) >= -0x80000000 && (value as number) <= 0x7fffffff && !Object.is(value, -0) ? value : MISFIT),
  fromAvro: IDENTITY,
  decodesToItself: true,
};
/** `where` names the field in decoding errors ("LogDebugContext.debugData"). */
export function jsonTextMapping(where: string): ValueMapping {
  return {
    toAvro: (value) => toJsonText(value),
    fromAvro: (value) => parseJsonText(value as string, where),
  };
}

function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MalformedRecordError(`${what} holds invalid JSON text (${(error as Error).message})`);
  }
}

/** A record: its known fields typed, plus `_absent` and `_extra` (see event-mapping.ts). */
export class RecordMapping implements ValueMapping {
  private encodeRecord: RecordEncoder = notCompiled;
  private decodeRecord: RecordDecoder = notCompiled;

  constructor(readonly name: string) {}

  /** Called once the field types are compiled, which lets a record refer to itself. */
  setFields(fields: readonly KnownField[]): void {
    this.encodeRecord = compileRecordEncoder(fields, MISFIT);
    this.decodeRecord = compileRecordDecoder(fields, (object, extraText) => this.applyExtra(object, extraText));
  }

  toAvro(value: unknown): unknown {
    return isPlainObject(value) ? this.encodeRecord(value) : MISFIT;
  }

  objectToAvro(object: Record<string, unknown>): Record<string, unknown> {
    return this.encodeRecord(object);
  }

  fromAvro(value: unknown): Record<string, unknown> {
    return this.decodeRecord(value as Record<string, unknown>);
  }

  private applyExtra(object: Record<string, unknown>, extraText: string): void {
    const extra = parseJsonText(extraText, `${this.name}._extra`);
    if (!isPlainObject(extra)) throw new MalformedRecordError(`${this.name}._extra is not the JSON text of an object`);
    for (const key in extra) setOwn(object, key, extra[key]);
  }
}

function notCompiled(): never {
  throw new Error('a record mapping was used before its fields were compiled');
}

export class ArrayMapping implements ValueMapping {
  constructor(private readonly items: ValueMapping) {}

  toAvro(value: unknown): unknown {
    if (!Array.isArray(value)) return MISFIT;
    const items = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const item = this.items.toAvro(value[i]);
      if (item === MISFIT) return MISFIT;
      items[i] = item;
    }
    return items;
  }

  fromAvro(value: unknown): unknown[] {
    const avroItems = value as readonly unknown[];
    const items = new Array<unknown>(avroItems.length);
    for (let i = 0; i < avroItems.length; i++) items[i] = this.items.fromAvro(avroItems[i]);
    return items;
  }
}

