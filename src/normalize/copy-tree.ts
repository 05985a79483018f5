import { isPlainObject } from './values.js';

/** What a TreeCopier makes of one value: a finished copy, or a container to copy item by item with its own state. */
export type Opened<S> = { copy: unknown } | { enter: S };

/**
 * One way of copying a JSON tree (see copyTree). `S` is the copier's state for a container being
 * copied: its copy so far and whatever the copier tracks (depth, path, what was consumed).
 */
export interface TreeCopier<S> {
  /** The value at `key` of `parent` (undefined for the root): a finished copy, or a container to enter. */
  open(value: unknown, key: string | number | undefined, parent: S | undefined): Opened<S>;
  /** Puts the copy of the item at `key` into its container's state. */
  place(state: S, key: string | number, copy: unknown): void;
  /** The copy of a container once all its items are placed. */
  close(state: S): unknown;
}

interface Frame<S> {
  readonly state: S;
  readonly source: Record<string, unknown> | readonly unknown[];
  /** Object keys; undefined for an array. */
  readonly keys: string[] | undefined;
  index: number;
  /** The key of this container in its parent. */
  readonly key: string | number;
}

/**
 * Copies a JSON tree as the copier says, without recursion: an event nested thousands of levels
 * deep must not overflow the stack. Containers (arrays and plain objects) the copier enters are
 * walked in order; own enumerable keys only.
 */
export function copyTree<S>(root: unknown, copier: TreeCopier<S>): unknown {
  const first = copier.open(root, undefined, undefined);
  if ('copy' in first) return first.copy;
  const stack: Frame<S>[] = [frameOf(first.enter, root, 0)];
  for (;;) {
    const frame = stack[stack.length - 1] as Frame<S>;
    const length = frame.keys === undefined ? (frame.source as readonly unknown[]).length : frame.keys.length;
    if (frame.index < length) {
      const key = frame.keys === undefined ? frame.index : (frame.keys[frame.index] as string);
      frame.index += 1;
      const value = (frame.source as Record<string | number, unknown>)[key];
      const opened = copier.open(value, key, frame.state);
      if ('copy' in opened) copier.place(frame.state, key, opened.copy);
      else stack.push(frameOf(opened.enter, value, key));
      continue;
    }
    stack.pop();
    const copy = copier.close(frame.state);
    const parent = stack[stack.length - 1];
    if (parent === undefined) return copy;
    copier.place(parent.state, frame.key, copy);
  }
}

function frameOf<S>(state: S, container: unknown, key: string | number): Frame<S> {
  if (Array.isArray(container)) return { state, source: container, keys: undefined, index: 0, key };
  if (isPlainObject(container)) return { state, source: container, keys: Object.keys(container), index: 0, key };
  throw new TypeError('copyTree: only arrays and objects can be entered');
}
