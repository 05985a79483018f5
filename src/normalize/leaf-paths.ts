import { isPlainObject } from './values.js';

export interface Leaf {
  /** Object keys and array indexes from the root. */
  readonly path: readonly (string | number)[];
  readonly value: unknown;
}

/**
 * Every leaf of a JSON value (scalars, and empty objects/arrays as leaves of their own), own
 * properties only, in document order. Used to prove that no Okta field disappears and that the
 * index template maps every path a document can hold. Iterative: any depth.
 */
export function leaves(value: unknown, path: readonly (string | number)[] = []): Leaf[] {
  const out: Leaf[] = [];
  const pending: Leaf[] = [{ path, value }];
  while (pending.length > 0) {
    const { path: at, value: item } = pending.pop() as Leaf;
    const children: Leaf[] = [];
    // forEach skips the holes of a sparse array, as JSON has none.
    if (Array.isArray(item)) item.forEach((child: unknown, index) => children.push({ path: [...at, index], value: child }));
    else if (isPlainObject(item)) for (const key of Object.keys(item)) children.push({ path: [...at, key], value: item[key] });
    if (children.length === 0) out.push({ path: at, value: item });
    else for (let i = children.length - 1; i >= 0; i -= 1) pending.push(children[i] as Leaf);
  }
  return out;
}

/** The dotted field name of a path as Elasticsearch sees it (array indexes dropped). */
export function fieldName(path: readonly (string | number)[]): string {
  return path.filter((step): step is string => typeof step === 'string').join('.');
}
