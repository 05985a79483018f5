/** A vector selector of a PromQL expression: `metric{label op "value", …}`. */
export interface Selector {
  metric: string;
  matchers: { label: string; op: string; value: string }[];
}

interface Token {
  kind: 'identifier' | 'string' | 'number' | 'symbol';
  text: string;
}

const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);
/** Keywords followed by a parenthesized list of label names. */
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set([...LABEL_LISTS, 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'atan2']);

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const rest = expr.slice(i);
    const c = rest[0] as string;
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '#') {
      i += rest.includes('\n') ? rest.indexOf('\n') : rest.length;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = 1;
      let text = '';
      while (j < rest.length && rest[j] !== c) {
        if (rest[j] === '\\' && c !== '`') j += 1;
        text += rest[j] ?? '';
        j += 1;
      }
      if (j >= rest.length) throw new Error(`unterminated string in ${JSON.stringify(expr)}`);
      tokens.push({ kind: 'string', text });
      i += j + 1;
    } else {
      // Numbers and durations (1e3, 0.95, 15m, 1h30m) start with a digit or a dot.
      const match = /^[A-Za-z_:][\w:]*/.exec(rest) ?? /^\.?\d[\w.]*/.exec(rest) ?? /^(=~|!~|!=|==|>=|<=|.)/.exec(rest);
      const text = (match as RegExpExecArray)[0];
      tokens.push({ kind: /^[A-Za-z_:]/.test(text) ? 'identifier' : /^\.?\d/.test(text) ? 'number' : 'symbol', text });
      i += text.length;
    }
  }
  return tokens;
}

/** Index of the token closing the bracket opened at `open`. */
function closing(tokens: Token[], open: number): number {
  const pairs: Record<string, string> = { '(': ')', '{': '}', '[': ']' };
  const close = pairs[tokens[open]?.text ?? ''];
  let depth = 0;
  for (let i = open; i < tokens.length; i += 1) {
    if (tokens[i]?.text === tokens[open]?.text) depth += 1;
    else if (tokens[i]?.text === close && --depth === 0) return i;
  }
  throw new Error(`unbalanced ${tokens[open]?.text ?? 'bracket'}`);
}

/**
 * Every vector selector of a PromQL expression, read with a small tokenizer: an identifier that is
 * not a keyword, an aggregation or a function (followed by a parenthesis) names a metric. Label
 * lists (`by (…)`, `on (…)`), strings and ranges are skipped. Enough for the project's dashboards
 * and rules; not a full parser.
 */
export function selectors(expr: string): Selector[] {
  const tokens = tokenize(expr);
  const found: Selector[] = [];
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] as Token;
    const next = tokens[i + 1];
    if (token.text === '[') {
      i = closing(tokens, i);
      continue;
    }
    if (token.kind !== 'identifier') continue;
    const word = token.text.toLowerCase();
    if (KEYWORDS.has(word) || AGGREGATIONS.has(word) || next?.text === '(') {
      if (LABEL_LISTS.has(word) && next?.text === '(') i = closing(tokens, i + 1);
      continue;
    }
    const selector: Selector = { metric: token.text, matchers: [] };
    if (next?.text === '{') {
      const end = closing(tokens, i + 1);
      for (let j = i + 2; j < end; j += 4) {
        const [label, op, value] = [tokens[j], tokens[j + 1], tokens[j + 2]];
        if (label?.kind !== 'identifier' || op?.kind !== 'symbol' || value?.kind !== 'string') throw new Error(`cannot read the label matchers of ${token.text} in ${JSON.stringify(expr)}`);
        selector.matchers.push({ label: label.text, op: op.text, value: value.text });
      }
      i = end;
    }
    found.push(selector);
  }
  return found;
}
