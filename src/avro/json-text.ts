/**
 * JSON text for the values that the schema keeps as text (free-form objects, `_extra`). The
 * contract is exactness: JSON.parse of the text gives back a value deep-equal to the input. Plain
 * JSON.stringify breaks that for values that are not JSON (undefined, NaN, Infinity, functions,
 * class instances, which it drops or rewrites silently) and for -0 (written as 0), so values are
 * checked first: anything that is not JSON throws NotJsonError, and -0 takes a slower writer, as
 * does a LargeNumber (a JSON number too large for a double, written back as its original text).
 *
 * Nesting is bounded (MAX_NESTING_DEPTH): the walks here and V8's JSON.stringify recurse, and a
 * value nested deeper than the stack allows would otherwise end in a RangeError from anywhere.
 */

/** How deep a free-form value may nest. Okta events nest a handful of levels; thousands is hostile input or a cycle. */
export const MAX_NESTING_DEPTH = 1000;

/** A value that JSON cannot represent exactly. The codec reports where it is (see findNonJsonValue). */
export class NotJsonError extends Error {
  constructor() {
    super('the value is not JSON');
    this.name = 'NotJsonError';
  }
}

/** A value nested deeper than MAX_NESTING_DEPTH (or cyclic, which looks the same to a walk). */
export class TooDeepError extends Error {
  constructor() {
    super(`nested more than ${MAX_NESTING_DEPTH} levels deep (or cyclic)`);
    this.name = 'TooDeepError';
  }
}

/**
 * A JSON number whose magnitude is too large for a double (over about 1.8e308), which JSON.parse
 * turns into Infinity: kept as its original text (parseJsonKeepingLargeNumbers makes them), so
 * that the JSON text written for it is the number as it was sent. Reading that text back with
 * JSON.parse gives Infinity, as JSON.parse of the original did: the round trip stays exact.
 */
export class LargeNumber {
  constructor(readonly text: string) {}
}

/** JSON objects as JSON.parse makes them; anything with another prototype (Date, Map, a class) is not JSON. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** Like `target[key] = value`, but a JSON key "__proto__" becomes an own property instead of replacing the prototype, as JSON.parse makes it. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

export function toJsonText(value: unknown): string {
  return needsExactWriter(value, 0) ? stringifyExactly(value) : JSON.stringify(value);
}

/**
 * Walks a JSON value; throws NotJsonError on anything that is not JSON and TooDeepError past
 * MAX_NESTING_DEPTH. True if it holds a -0 or a LargeNumber, which JSON.stringify cannot write.
 */
function needsExactWriter(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return false;
    case 'number':
      if (!Number.isFinite(value)) throw new NotJsonError();
      return Object.is(value, -0);
    case 'object': {
      if (value === null) return false;
      if (depth === MAX_NESTING_DEPTH) throw new TooDeepError();
      let found = false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) found = needsExactWriter(value[i], depth + 1) || found;
        return found;
      }
      if (!isPlainObject(value)) {
        if (value instanceof LargeNumber) return true;
        throw new NotJsonError();
      }
      for (const key in value) found = needsExactWriter(value[key], depth + 1) || found;
      return found;
    }
    default:
      throw new NotJsonError();
  }
}

/** Only for values needsExactWriter has checked: their depth is bounded. */
function stringifyExactly(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : JSON.stringify(value);
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (value instanceof LargeNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(stringifyExactly).join(',')}]`;
  const members = Object.entries(value).map(([key, member]) => `${JSON.stringify(key)}:${stringifyExactly(member)}`);
  return `{${members.join(',')}}`;
}

/**
 * Where an event holds something that is not JSON, as a path (`client.geographicalContext.lat`,
 * `target[2]`) with a description of the value, or undefined if it is all JSON. Only for error
 * messages: it runs after NotJsonError, never on the hot path. It looks no deeper than
 * MAX_NESTING_DEPTH, and says so where it stops.
 */
export function findNonJsonValue(value: unknown, path = '', depth = 0): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path || 'the event'} (${value})`;
    case 'object': {
      if (value === null || value instanceof LargeNumber) return undefined;
      if (depth === MAX_NESTING_DEPTH) return `${path} (nested more than ${MAX_NESTING_DEPTH} levels deep)`;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const found = findNonJsonValue(value[i], `${path}[${i}]`, depth + 1);
          if (found !== undefined) return found;
        }
        return undefined;
      }
      if (!isPlainObject(value)) return `${path || 'the event'} (${describeValue(value)})`;
      for (const key in value) {
        const found = findNonJsonValue(value[key], path ? `${path}.${key}` : key, depth + 1);
        if (found !== undefined) return found;
      }
      return undefined;
    }
    default:
      return `${path || 'the event'} (${describeValue(value)})`;
  }
}

/** A short name for the kind of a value, for messages ("an array", "a Date", "undefined"). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  if (typeof value === 'undefined') return 'undefined';
  if (typeof value === 'number') return `the number ${value}`;
  return `a ${typeof value}`;
}
