import { isPlainObject } from './values.js';

export interface Leaf {
  /** Object keys and array indexes from the root. */
  readonly path: readonly (string | number)[];
  readonly value: unknown;
}

/**
 * Every leaf of a JSON value (scalars, and empty objects/arrays as leaves of their own), own
 * properties only. Used to prove that no Okta field disappears and that the index template maps
 * every path a document can hold.
 */
export function leaves(value: unknown, path: readonly (string | number)[] = []): Leaf[] {
  if (Array.isArray(value)) {
    return value.length === 0 ? [{ path, value }] : value.flatMap((item, index) => leaves(item, [...path, index]));
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    return keys.length === 0 ? [{ path, value }] : keys.flatMap((key) => leaves(value[key], [...path, key]));
  }
  return [{ path, value }];
}

/** The dotted field name of a path as Elasticsearch sees it (array indexes dropped). */
export function fieldName(path: readonly (string | number)[]): string {
  return path.filter((step): step is string => typeof step === 'string').join('.');
}
