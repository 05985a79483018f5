import { isPlainObject } from './values.js';

export interface JsonTextOptions {
  /**
   * A text for hashing, not for reading back: keys sorted, -0 written as `-0` and non-finite
   * numbers as bare `Infinity`, so that two values differ in text exactly when they differ.
   */
  canonical?: boolean;
  /** Told of each non-finite number (from `1e400` in JSON); outside canonical mode it is written as a string, "Infinity". */
  onNonFinite?: () => void;
}

/**
 * JSON text of a value of any depth, without recursion: JSON.stringify overflows the stack on an
 * event nested a few thousand levels deep, and writes `1e400` (Infinity) as null. Otherwise the
 * same text as JSON.stringify (key order, escaping, undefined members skipped, null in arrays).
 */
export function jsonText(value: unknown, options: JsonTextOptions = {}): string {
  const out: string[] = [];
  const stack: Frame[] = [];
  const write = (item: unknown): void => {
    if (Array.isArray(item)) {
      out.push('[');
      stack.push({ items: item, index: 0 });
    } else if (isPlainObject(item)) {
      out.push('{');
      const keys = Object.keys(item);
      if (options.canonical) keys.sort();
      stack.push({ object: item, keys, index: 0, wrote: false });
    } else {
      out.push(scalarText(item, options));
    }
  };
  write(value);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    if ('items' in frame) {
      if (frame.index >= frame.items.length) {
        out.push(']');
        stack.pop();
        continue;
      }
      if (frame.index > 0) out.push(',');
      const item = frame.items[frame.index];
      frame.index += 1;
      write(item === undefined ? null : item);
    } else {
      while (frame.index < frame.keys.length && frame.object[frame.keys[frame.index] as string] === undefined) frame.index += 1;
      if (frame.index >= frame.keys.length) {
        out.push('}');
        stack.pop();
        continue;
      }
      if (frame.wrote) out.push(',');
      frame.wrote = true;
      const key = frame.keys[frame.index] as string;
      frame.index += 1;
      out.push(JSON.stringify(key), ':');
      write(frame.object[key]);
    }
  }
  return out.join('');
}

type Frame = { items: readonly unknown[]; index: number } | { object: Record<string, unknown>; keys: string[]; index: number; wrote: boolean };

function scalarText(value: unknown, options: JsonTextOptions): string {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return options.canonical && Object.is(value, -0) ? '-0' : JSON.stringify(value);
    options.onNonFinite?.();
    return options.canonical ? String(value) : JSON.stringify(String(value));
  }
  return JSON.stringify(value) ?? 'null';
}
