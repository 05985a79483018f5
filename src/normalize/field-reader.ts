import { copyTree } from './copy-tree.js';
import { isNoData, isPlainObject } from './values.js';

/** A path into an Okta event: object keys and array indexes. */
export type FieldPath = readonly (string | number)[];

/** The consumed paths as a tree: remainder() walks it beside the event, with no path strings built. */
interface ConsumedNode {
  consumed: boolean;
  readonly children: Map<string, ConsumedNode>;
}

const newNode = (): ConsumedNode => ({ consumed: false, children: new Map() });

/**
 * Reads an Okta event and records which fields were *consumed*: a field is consumed when its value
 * is reproduced in the activity document (copied, or kept verbatim next to a normalized id).
 * Everything not consumed is copied to `unmapped` by `remainder()`, so no field silently
 * disappears. A value that is read but rejected (an invalid IP, a lat of "x") is not consumed
 * and lands in `unmapped` too.
 *
 * Only own properties are read: keys such as `__proto__` or `constructor` are data here.
 */
export class ConsumingReader {
  private readonly consumedTree: ConsumedNode = newNode();
  private readonly consumedList: FieldPath[] = [];

  constructor(readonly event: Record<string, unknown>) {}

  /** The raw value at `path` (own properties only), without consuming it. */
  get(path: FieldPath): unknown {
    let value: unknown = this.event;
    for (const step of path) {
      if (typeof step === 'number') {
        if (!Array.isArray(value)) return undefined;
        value = value[step];
      } else {
        if (!isPlainObject(value) || !Object.hasOwn(value, step)) return undefined;
        value = value[step];
      }
    }
    return value;
  }

  /** Marks `path` (a leaf or a whole subtree) as reproduced in the document. */
  consume(path: FieldPath): void {
    let node = this.consumedTree;
    for (const step of path) {
      const key = String(step);
      let child = node.children.get(key);
      if (!child) {
        child = newNode();
        node.children.set(key, child);
      }
      node = child;
    }
    if (node.consumed) return;
    node.consumed = true;
    this.consumedList.push(path);
  }

  isConsumed(path: FieldPath): boolean {
    let node: ConsumedNode | undefined = this.consumedTree;
    for (const step of path) node = node?.children.get(String(step));
    return node?.consumed ?? false;
  }

  /** The string at `path` when it carries data and passes `accept`; consumed when returned. */
  takeString(path: FieldPath, accept: (value: string) => boolean = () => true): string | undefined {
    const value = this.get(path);
    if (typeof value !== 'string' || isNoData(value) || value === '' || !accept(value)) return undefined;
    this.consume(path);
    return value;
  }

  /** Like takeString, but a finite number is accepted too and written as its decimal text (ids, versions). */
  takeText(path: FieldPath): string | undefined {
    const value = this.get(path);
    if (typeof value === 'number' && Number.isFinite(value)) {
      this.consume(path);
      return String(value);
    }
    return this.takeString(path);
  }

  takeNumber(path: FieldPath): number | undefined {
    const value = this.get(path);
    if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
    this.consume(path);
    return value;
  }

  takeBoolean(path: FieldPath): boolean | undefined {
    const value = this.get(path);
    if (typeof value !== 'boolean') return undefined;
    this.consume(path);
    return value;
  }

  /** Array elements at `path` (empty when it is not an array). */
  array(path: FieldPath): readonly unknown[] {
    const value = this.get(path);
    return Array.isArray(value) ? value : [];
  }

  /** The consumed paths, in the order they were consumed. */
  consumedPaths(): readonly FieldPath[] {
    return this.consumedList;
  }

  /**
   * The event minus its consumed fields and its no-data leaves (see isNoData), same shape and key
   * names as Okta wrote them. Array positions are kept: a consumed element becomes null (which
   * Elasticsearch's `flattened` ignores), so `unmapped.target[1].detailEntry` still names target 1.
   * Undefined when nothing remains.
   */
  remainder(): Record<string, unknown> | undefined {
    return remainderOf(this.event, this.consumedTree) as Record<string, unknown> | undefined;
  }
}

interface RemainderState {
  readonly node: ConsumedNode | undefined;
  readonly copy: Record<string, unknown> | unknown[];
  any: boolean;
}

/** The value minus consumed paths and no-data leaves; undefined when nothing remains. Any depth (copyTree). */
function remainderOf(value: unknown, node: ConsumedNode | undefined): unknown {
  return copyTree<RemainderState>(value, {
    open(item, key, parent) {
      const itemNode = parent === undefined ? node : parent.node?.children.get(String(key));
      if (itemNode?.consumed || isNoData(item)) return { copy: undefined };
      if (Array.isArray(item)) return { enter: { node: itemNode, copy: [], any: false } };
      if (isPlainObject(item)) return { enter: { node: itemNode, copy: {}, any: false } };
      return { copy: item };
    },
    place(state, key, rest) {
      if (Array.isArray(state.copy)) {
        // Array positions are kept: a consumed element holds its place as null.
        state.copy.push(rest === undefined ? null : rest);
        if (rest !== undefined) state.any = true;
      } else if (rest !== undefined) {
        setOwn(state.copy, key as string, rest);
        state.any = true;
      }
    },
    close: (state) => (state.any ? state.copy : undefined),
  });
}

/** Sets an own property even for keys like `__proto__` (plain assignment would change the prototype). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
