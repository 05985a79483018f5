import { LargeNumber, setOwn } from './json-text.js';

/**
 * Reading JSON text where JSON.parse loses something: a number too large for a double (JSON.parse
 * makes it Infinity, which no JSON text can hold), and the text of each item of a page. These are
 * the slow paths, taken only for an item that JSON.parse could not give exactly or that is
 * dead-lettered; both are iterative, so that no nesting depth overflows the stack.
 */

/**
 * JSON.parse, except that a number too large for a double is a LargeNumber holding its text.
 * Meant for text JSON.parse accepts; throws SyntaxError on anything else.
 */
export function parseJsonKeepingLargeNumbers(text: string): unknown {
  const reader = new JsonReader(text);
  // The containers being filled, innermost last; `keys[i]` is the key awaiting a value in `open[i]`.
  const open: (unknown[] | Record<string, unknown>)[] = [];
  const keys: (string | undefined)[] = [];
  for (;;) {
    let value: unknown;
    const first = reader.next();
    if (first === '{' || first === '[') {
      const container = first === '{' ? ({} as Record<string, unknown>) : [];
      if (reader.peek() === (first === '{' ? '}' : ']')) {
        reader.skip();
        value = container;
      } else {
        open.push(container);
        keys.push(first === '{' ? reader.memberKey() : undefined);
        continue;
      }
    } else {
      value = reader.scalar(first);
    }
    // A value is complete: it fills its container, which may complete in turn.
    for (;;) {
      const container = open.at(-1);
      if (container === undefined) {
        reader.end();
        return value;
      }
      if (Array.isArray(container)) container.push(value);
      else setOwn(container, keys.at(-1)!, value);
      const after = reader.next();
      if (after === ',') {
        if (!Array.isArray(container)) keys[keys.length - 1] = reader.memberKey();
        break;
      }
      if (after !== (Array.isArray(container) ? ']' : '}')) throw reader.unexpected(after);
      open.pop();
      keys.pop();
      value = container;
    }
  }
}

/** The text of each item of a JSON array (the text of a page body), as it was sent. SyntaxError if `text` is not a JSON array. */
export function jsonArrayItemTexts(text: string): string[] {
  const reader = new JsonReader(text);
  if (reader.next() !== '[') throw new SyntaxError('expected a JSON array');
  const items: string[] = [];
  let depth = 0;
  let start = -1;
  let end = -1;
  for (;;) {
    const c = reader.next();
    if (c === '') throw reader.unexpected(c);
    if (depth === 0 && (c === ',' || c === ']')) {
      if (start >= 0) items.push(text.slice(start, end));
      start = -1;
      if (c === ']') {
        reader.end();
        return items;
      }
      continue;
    }
    if (start < 0) start = reader.position - 1;
    if (c === '"') reader.skipStringRest();
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    end = reader.position;
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS: Record<string, unknown> = { true: true, false: false, null: null };

class JsonReader {
  position = 0;

  constructor(private readonly text: string) {}

  /** The next character after whitespace, consumed; '' at the end. */
  next(): string {
    this.skipWhitespace();
    return this.text.charAt(this.position++);
  }

  peek(): string {
    this.skipWhitespace();
    return this.text.charAt(this.position);
  }

  skip(): void {
    this.position++;
  }

  /** A string, a number or a literal whose first character `first` was just consumed. */
  scalar(first: string): unknown {
    const start = this.position - 1;
    if (first === '"') {
      this.skipStringRest();
      // JSON.parse of the string alone unescapes it exactly as it would inside the whole text.
      return JSON.parse(this.text.slice(start, this.position));
    }
    if (first === '-' || (first >= '0' && first <= '9')) {
      NUMBER.lastIndex = start;
      const match = NUMBER.exec(this.text);
      if (!match) throw this.unexpected(first);
      this.position = start + match[0].length;
      const number = Number(match[0]);
      return Number.isFinite(number) ? number : new LargeNumber(match[0]);
    }
    for (const literal in LITERALS) {
      if (this.text.startsWith(literal, start)) {
        this.position = start + literal.length;
        return LITERALS[literal];
      }
    }
    throw this.unexpected(first);
  }

  /** `"key":` at the start of an object member. */
  memberKey(): string {
    if (this.next() !== '"') throw this.unexpected(this.text.charAt(this.position - 1));
    const key = this.scalar('"') as string;
    const colon = this.next();
    if (colon !== ':') throw this.unexpected(colon);
    return key;
  }

  /** Past the closing quote of a string whose opening quote was consumed. */
  skipStringRest(): void {
    for (let i = this.position; i < this.text.length; i++) {
      const c = this.text.charCodeAt(i);
      if (c === 0x5c) i++;
      else if (c === 0x22) {
        this.position = i + 1;
        return;
      }
    }
    throw new SyntaxError('unterminated string in JSON');
  }

  /** Nothing but whitespace may follow the value. */
  end(): void {
    const rest = this.next();
    if (rest !== '') throw this.unexpected(rest);
  }

  unexpected(found: string): SyntaxError {
    return new SyntaxError(found === '' ? 'unexpected end of JSON input' : `unexpected ${JSON.stringify(found)} in JSON at position ${this.position - 1}`);
  }

  private skipWhitespace(): void {
    const text = this.text;
    let i = this.position;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    }
    this.position = i;
  }
}
