import { MAX_UNMAPPED_PATH_BYTES, UNMAPPED_DEPTH_LIMIT } from './document-limits.js';
import { copyTree } from './copy-tree.js';
import { setOwn } from './field-reader.js';
import { jsonText } from './json-text.js';
import { isPlainObject } from './values.js';

/** The repairs that make an `unmapped` remainder one Elasticsearch's `flattened` field takes; each is also a label of the document. */
export type UnmappedRepair = 'unmapped_non_finite_numbers' | 'unmapped_too_deep' | 'unmapped_unsafe_keys';

/**
 * Where the entries of an object whose keys Elasticsearch refuses are kept, as the JSON text of an
 * object of them. An event's own key of this name is kept the same way, so it never collides.
 */
export const UNSAFE_KEYS_FIELD = 'okta_forwarder_unsafe_keys';

/** The longest dotted path an object under `unmapped` may have: its own UNSAFE_KEYS_FIELD must still fit. */
const MAX_OBJECT_PATH_BYTES = MAX_UNMAPPED_PATH_BYTES - 1 - UNSAFE_KEYS_FIELD.length;

/**
 * The remainder of an event made into a value of the template's `unmapped` (flattened) field
 * without losing anything, or the repairs made to it:
 *   - a number JSON cannot write (`1e400` parses as Infinity, which JSON.stringify turns into
 *     null) becomes its text, "Infinity" or "-Infinity";
 *   - a container (object or array) deeper than UNMAPPED_DEPTH_LIMIT levels becomes its JSON text,
 *     in its place. Elasticsearch counts only objects against the limit; counting arrays as well
 *     also keeps the document far inside its parser's 1,000 levels and JSON.stringify's stack;
 *   - entries whose key Elasticsearch refuses (a `\0`, which it reserves, or a key so long that
 *     the dotted path could not be indexed with a value: MAX_UNMAPPED_PATH_BYTES, less room for
 *     UNSAFE_KEYS_FIELD) move, key and value exactly, into the JSON text at UNSAFE_KEYS_FIELD of
 *     the same object.
 * Iterative: any depth.
 */
export function boundUnmapped(remainder: Record<string, unknown>): { value: Record<string, unknown>; repairs: Set<UnmappedRepair> } {
  const repairs = new Set<UnmappedRepair>();
  const onNonFinite = () => repairs.add('unmapped_non_finite_numbers');
  const asText = (value: unknown): string => jsonText(value, { onNonFinite });
  const value = copyTree<BoundState>(remainder, {
    open(item, key, parent) {
      // Array items share the array's path: Elasticsearch's keys name objects only.
      const depth = parent === undefined ? 1 : parent.depth + 1;
      let pathBytes = parent?.pathBytes ?? NO_PATH;
      if (parent !== undefined && typeof key === 'string') {
        pathBytes = keyedPathBytes(parent.pathBytes, key);
        if (pathBytes > MAX_OBJECT_PATH_BYTES || key.includes('\0') || key === UNSAFE_KEYS_FIELD) {
          setOwn((parent.unsafe ??= {}), key, item);
          return { copy: SKIPPED };
        }
      }
      if (typeof item === 'number' && !Number.isFinite(item)) {
        onNonFinite();
        return { copy: String(item) };
      }
      if (!Array.isArray(item) && !isPlainObject(item)) return { copy: item };
      if (depth > UNMAPPED_DEPTH_LIMIT) {
        repairs.add('unmapped_too_deep');
        return { copy: asText(item) };
      }
      return { enter: { depth, pathBytes, copy: Array.isArray(item) ? [] : {}, unsafe: undefined } };
    },
    place(state, key, copy) {
      if (copy === SKIPPED) return;
      if (Array.isArray(state.copy)) state.copy.push(copy);
      else setOwn(state.copy, key as string, copy);
    },
    close(state) {
      if (state.unsafe) {
        repairs.add('unmapped_unsafe_keys');
        setOwn(state.copy as Record<string, unknown>, UNSAFE_KEYS_FIELD, asText(state.unsafe));
      }
      return state.copy;
    },
  });
  return { value: value as Record<string, unknown>, repairs };
}

const SKIPPED: unique symbol = Symbol('moved to okta_forwarder_unsafe_keys');

interface BoundState {
  /** Container levels from `unmapped` itself (1). */
  readonly depth: number;
  /** UTF-8 bytes of the dotted key path of this container under `unmapped` (NO_PATH for `unmapped` itself). */
  readonly pathBytes: number;
  readonly copy: Record<string, unknown> | unknown[];
  /** The entries whose keys Elasticsearch refuses, as they were. */
  unsafe: Record<string, unknown> | undefined;
}

/** Bytes of `parent.key`; any key longer than the limit in UTF-16 units is longer in bytes too, so it is not measured. */
function keyedPathBytes(parentBytes: number, key: string): number {
  if (key.length > MAX_OBJECT_PATH_BYTES) return MAX_OBJECT_PATH_BYTES + 1;
  return (parentBytes === NO_PATH ? 0 : parentBytes + 1) + Buffer.byteLength(key, 'utf8');
}

const NO_PATH = -1;
