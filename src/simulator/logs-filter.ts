/**
 * The `filter` and `q` parameters of /api/v1/logs (okta-system-log-api.md section 1.1), enough
 * of them for a client that narrows its query:
 *   filter  SCIM: eq ne co sw ew gt ge lt le pr, and / or / not, parentheses; dotted attribute
 *           paths (an array on the path matches when any element does). String comparisons
 *           ignore case (SCIM's default). `published` is refused (it would clash with since/until),
 *           as are `[ ]` value paths, and `co` on debugContext.debugData.url / requestUri.
 *   q       up to 10 keywords of at most 40 characters; each must occur, ignoring case. Matched
 *           against the event's JSON text, keys included: an approximation of Okta's index.
 * Errors are thrown as FilterError with the Okta code to answer with.
 */
export class FilterError extends Error {
  constructor(
    readonly errorCode: 'E0000053' | 'E0000031' | 'E0000001',
    message: string,
  ) {
    super(message);
  }
}

export type EventPredicate = (event: unknown) => boolean;

export function parseQ(q: string): (json: string) => boolean {
  const keywords = q.split(/\s+/).filter((k) => k !== '');
  if (keywords.length > 10) throw new FilterError('E0000001', 'q: at most 10 keywords are allowed');
  for (const k of keywords) if (k.length > 40) throw new FilterError('E0000001', `q: the keyword "${k.slice(0, 50)}" is longer than 40 characters`);
  const lower = keywords.map((k) => k.toLowerCase());
  return (json) => {
    const text = json.toLowerCase();
    return lower.every((k) => text.includes(k));
  };
}

export function parseFilter(filter: string): EventPredicate {
  const parser = new Parser(filter);
  const predicate = parser.expression();
  parser.expectEnd();
  return predicate;
}

type Token = { type: 'word' | 'string' | 'number' | 'lparen' | 'rparen'; text: string };

const OPERATORS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const NO_CONTAINS = new Set(['debugcontext.debugdata.url', 'debugcontext.debugdata.requesturi']);

class Parser {
  private readonly tokens: Token[];
  private index = 0;

  constructor(private readonly source: string) {
    this.tokens = tokenize(source);
  }

  expression(): EventPredicate {
    let left = this.term();
    while (this.peekWord('or')) {
      this.index++;
      const l = left;
      const r = this.term();
      left = (e) => l(e) || r(e);
    }
    return left;
  }

  expectEnd(): void {
    if (this.index < this.tokens.length) this.fail(`unexpected "${this.tokens[this.index]?.text}"`);
  }

  private term(): EventPredicate {
    let left = this.factor();
    while (this.peekWord('and')) {
      this.index++;
      const l = left;
      const r = this.factor();
      left = (e) => l(e) && r(e);
    }
    return left;
  }

  private factor(): EventPredicate {
    if (this.peekWord('not')) {
      this.index++;
      const inner = this.factor();
      return (e) => !inner(e);
    }
    const token = this.next();
    if (token.type === 'lparen') {
      const inner = this.expression();
      if (this.next().type !== 'rparen') this.fail('missing ")"');
      return inner;
    }
    if (token.type !== 'word') this.fail(`expected an attribute, found "${token.text}"`);
    const path = token.text;
    if (path.includes('[')) this.fail('value paths ("[ ]") are not supported');
    if (path.toLowerCase() === 'published') {
      throw new FilterError('E0000053', `Invalid filter '${this.source}': published can't be used in a filter; use since and until`);
    }
    const opToken = this.next();
    const op = opToken.text.toLowerCase();
    const get = pathGetter(path);
    if (op === 'pr') return (e) => get(e).some((v) => v !== null && v !== undefined);
    if (!OPERATORS.has(op)) this.fail(`Unrecognized attribute operator '${opToken.text}'`);
    if (op === 'co' && NO_CONTAINS.has(path.toLowerCase())) {
      throw new FilterError('E0000031', `Invalid filter parameter: the operator 'co' is not supported for ${path}`);
    }
    const valueToken = this.next();
    const value = literal(valueToken, () => this.fail(`expected a value after ${opToken.text}`));
    return (e) => get(e).some((v) => compare(op, v, value));
  }

  private peekWord(word: string): boolean {
    const t = this.tokens[this.index];
    return t?.type === 'word' && t.text.toLowerCase() === word;
  }

  private next(): Token {
    const t = this.tokens[this.index++];
    if (!t) this.fail('unexpected end of filter');
    return t;
  }

  private fail(reason: string): never {
    throw new FilterError('E0000053', `Invalid filter '${this.source}': ${reason}`);
  }
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|([^\s()"]+))/gy;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(source)) !== null) {
    last = re.lastIndex;
    if (m[1]) tokens.push({ type: 'lparen', text: '(' });
    else if (m[2]) tokens.push({ type: 'rparen', text: ')' });
    else if (m[3] !== undefined) tokens.push({ type: 'string', text: JSON.parse(`"${m[3]}"`) as string });
    else if (m[4] !== undefined) tokens.push({ type: /^-?\d+(\.\d+)?$/.test(m[4]) ? 'number' : 'word', text: m[4] });
  }
  if (source.slice(last).trim() !== '') throw new FilterError('E0000053', `Invalid filter '${source}': unterminated string`);
  return tokens;
}

function literal(token: Token, fail: () => never): unknown {
  if (token.type === 'string') return token.text;
  if (token.type === 'number') return Number(token.text);
  if (token.type === 'word') {
    if (token.text === 'true') return true;
    if (token.text === 'false') return false;
    if (token.text === 'null') return null;
  }
  return fail();
}

/** Every value at a dotted path, descending into arrays. */
function pathGetter(path: string): (event: unknown) => unknown[] {
  const parts = path.split('.');
  return (event) => {
    let values: unknown[] = [event];
    for (const part of parts) {
      const next: unknown[] = [];
      for (const v of values) {
        if (Array.isArray(v)) {
          for (const item of v) if (item && typeof item === 'object') next.push((item as Record<string, unknown>)[part]);
        } else if (v && typeof v === 'object') next.push((v as Record<string, unknown>)[part]);
      }
      values = next;
    }
    return values.flatMap((v) => (Array.isArray(v) ? v : [v]));
  };
}

function compare(op: string, actual: unknown, expected: unknown): boolean {
  if (typeof actual === 'string' && typeof expected === 'string') {
    const a = actual.toLowerCase();
    const b = expected.toLowerCase();
    switch (op) {
      case 'eq': return a === b;
      case 'ne': return a !== b;
      case 'co': return a.includes(b);
      case 'sw': return a.startsWith(b);
      case 'ew': return a.endsWith(b);
      case 'gt': return a > b;
      case 'ge': return a >= b;
      case 'lt': return a < b;
      case 'le': return a <= b;
    }
  }
  switch (op) {
    case 'eq': return actual === expected;
    case 'ne': return actual !== expected;
    case 'gt': return typeof actual === 'number' && typeof expected === 'number' && actual > expected;
    case 'ge': return typeof actual === 'number' && typeof expected === 'number' && actual >= expected;
    case 'lt': return typeof actual === 'number' && typeof expected === 'number' && actual < expected;
    case 'le': return typeof actual === 'number' && typeof expected === 'number' && actual <= expected;
    default: return false;
  }
}
