/**
 * JSON text for the values that the schema keeps as text (free-form objects, `_extra`). The
 * contract is exactness: JSON.parse of the text gives back a value deep-equal to the input. Plain
 * JSON.stringify breaks that for values that are not JSON (undefined, NaN, Infinity, functions,
 * class instances, which it drops or rewrites silently) and for -0 (written as 0), so values are
 * checked first: anything that is not JSON throws NotJsonError, and -0 takes a slower writer.
 */

/** A value that JSON cannot represent exactly. The codec reports where it is (see findNonJsonValue). */
export class NotJsonError extends Error {
  constructor() {
    super('the value is not JSON');
    this.name = 'NotJsonError';
  }
}

/** JSON objects as JSON.parse makes them; anything with another prototype (Date, Map, a class) is not JSON. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

export function toJsonText(value: unknown): string {
  return holdsNegativeZero(value) ? stringifyKeepingNegativeZero(value) : JSON.stringify(value);
}

/** Walks a JSON value; throws NotJsonError on anything that is not JSON. True if it holds a -0. */
function holdsNegativeZero(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return false;
    case 'number':
      if (!Number.isFinite(value)) throw new NotJsonError();
      return Object.is(value, -0);
    case 'object': {
      if (value === null) return false;
      let found = false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) found = holdsNegativeZero(value[i]) || found;
        return found;
      }
      if (!isPlainObject(value)) throw new NotJsonError();
      for (const key in value) found = holdsNegativeZero(value[key]) || found;
      return found;
    }
    default:
      throw new NotJsonError();
  }
}

function stringifyKeepingNegativeZero(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : JSON.stringify(value);
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stringifyKeepingNegativeZero).join(',')}]`;
  const members = Object.entries(value).map(([key, member]) => `${JSON.stringify(key)}:${stringifyKeepingNegativeZero(member)}`);
  return `{${members.join(',')}}`;
}

/**
 * Where an event holds something that is not JSON, as a path (`client.geographicalContext.lat`,
 * `target[2]`) with a description of the value, or undefined if it is all JSON. Only for error
 * messages: it runs after NotJsonError, never on the hot path.
 */
export function findNonJsonValue(value: unknown, path = ''): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path || 'the event'} (${value})`;
    case 'object': {
      if (value === null) return undefined;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const found = findNonJsonValue(value[i], `${path}[${i}]`);
          if (found !== undefined) return found;
        }
        return undefined;
      }
      if (!isPlainObject(value)) return `${path || 'the event'} (${describeValue(value)})`;
      for (const key in value) {
        const found = findNonJsonValue(value[key], path ? `${path}.${key}` : key);
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
