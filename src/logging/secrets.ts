/**
 * The scrubber: every secret the process knows (Okta tokens, passwords, API keys, private keys,
 * credentials written into URLs) is replaced by [REDACTED] in whatever the process writes: log
 * lines, error output, crash reports, `check` rows, /metrics and /readyz, dead-letter reasons.
 * A secret is registered with the forms it takes on its way out: as is, JSON-escaped, URL-encoded,
 * base64 (an HTTP Basic header, a base64 blob it is part of), and as `user:password`. Besides the
 * registered values, scrubSecrets masks what has the shape of a credential whatever its value: the
 * token of an `SSWS`/`Bearer`/`Basic`/`DPoP`/`ApiKey` authorization echoed back by a server, and
 * the password of a URL's `user:password@`.
 *
 * Field-name redaction in the logger catches the known places; this catches the rest.
 */

export const REDACTED = '[REDACTED]';

/** Shorter values are not scrubbed: replacing "1" or "true" everywhere would wreck the logs. */
const MIN_SECRET_LENGTH = 6;
/** A base64 run this short occurs by chance too often to be scrubbed as the encoding of a secret. */
const MIN_ENCODED_LENGTH = 8;
/** A line of a PEM, or a string of a JSON key file, this long is a secret on its own. */
const MIN_KEY_PART_LENGTH = 16;

/** The forms of every secret registered for the life of the process. */
const permanentForms = new Set<string>();

/**
 * Short-lived secrets (OAuth access tokens, renewed every hour) are kept in a bounded queue: the
 * newest ones are scrubbed, and a process that runs for months does not scan an ever-longer list
 * on every log line.
 */
const rotating: { value: string; forms: string[] }[] = [];
const MAX_ROTATING = 32;

/** One regular expression of every form, longest first; rebuilt after a registration (undefined), null when nothing is registered. */
let matcher: RegExp | null | undefined = null;

export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== 'string') return;
  const trimmed = value.trim();
  if (trimmed.length < MIN_SECRET_LENGTH) return;
  for (const part of [trimmed, ...keyParts(trimmed)]) {
    for (const form of secretForms(part)) {
      if (!permanentForms.has(form)) {
        permanentForms.add(form);
        matcher = undefined;
      }
    }
  }
}

/**
 * A user name and its password: the password, and `user:password` as it is written in a URL or
 * sent, base64-encoded, in an HTTP Basic header. The user name alone is no secret.
 */
export function registerCredentials(username: string | undefined, password: string | undefined | null): void {
  registerSecret(password);
  if (!username || !password) return;
  registerSecret(`${username}:${password}`);
  registerSecret(`${encodeURIComponent(username)}:${encodeURIComponent(password)}`);
}

export function registerRotatingSecret(value: string): void {
  if (value.length < MIN_SECRET_LENGTH || rotating.some((entry) => entry.value === value)) return;
  rotating.push({ value, forms: secretForms(value) });
  if (rotating.length > MAX_ROTATING) rotating.shift();
  matcher = undefined;
}

/**
 * Text about to leave the process, with every registered secret and every credential-shaped
 * string replaced by [REDACTED]. Whatever a server, a library or a user put in the text.
 */
export function scrubSecrets(text: string): string {
  // Known values first: a shape ends where a token's usual characters end, a known value is replaced whole.
  return scrubCredentialShapes(scrubRegisteredSecrets(text));
}

/**
 * Only the registered secrets: for data the process prints (`normalize` documents), where a
 * string that merely looks like a credential is the data itself, and must not be changed.
 */
export function scrubRegisteredSecrets(text: string): string {
  if (matcher === undefined) matcher = buildMatcher();
  return matcher === null ? text : text.replace(matcher, REDACTED);
}

/**
 * The first `max` characters of text from outside (a server's answer, an error message), scrubbed
 * before it is cut: a cut through a secret would leave a prefix that no longer matches it.
 */
export function scrubbedExcerpt(text: string, max: number): string {
  return scrubSecrets(text).slice(0, max);
}

/** For tests: forget every registered secret. */
export function clearSecrets(): void {
  permanentForms.clear();
  rotating.length = 0;
  matcher = null;
}

/**
 * Routes everything written through process.stdout and process.stderr (commands' own output, a
 * library's console output, Node's warnings) through the scrubber. stderr carries messages only:
 * it is scrubbed fully. stdout also carries data (`normalize` documents): registered secrets only.
 * The CLI installs this before it does anything else.
 */
export function scrubProcessOutput(): void {
  scrubStream(process.stdout, scrubRegisteredSecrets);
  scrubStream(process.stderr, scrubSecrets);
}

function scrubStream(stream: NodeJS.WriteStream, scrub: (text: string) => string): void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string') return write(scrub(chunk), ...rest);
    if (chunk instanceof Uint8Array) {
      const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
      const scrubbed = scrub(text);
      // Bytes that hold no secret go out untouched (a chunk may end inside a UTF-8 character).
      return write(scrubbed === text ? chunk : Buffer.from(scrubbed, 'utf8'), ...rest);
    }
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

/**
 * What has the shape of a credential, whatever its value. The repetitions are bounded and anchored
 * on a fixed word or on "://", so the scan stays linear on any input.
 */
const AUTHORIZATION = /\b(SSWS|Bearer|Basic|DPoP|ApiKey)(\s+)([A-Za-z0-9._~+/=-]{8,})/gi;
/** `scheme://userinfo@`: the scheme, then the user information (user name, or user:password). */
export const URL_USERINFO = /\b([a-z][a-z0-9+.-]{0,30}:\/\/)([^\s/?#@"'<>\\]{1,512})@/gi;

function scrubCredentialShapes(text: string): string {
  return text
    .replace(AUTHORIZATION, (match: string, scheme: string, space: string, token: string) =>
      // Words follow these in prose ("Basic authentication"); a token has a digit or a symbol.
      /[0-9._~+/=-]/.test(token) ? `${scheme}${space}${REDACTED}` : match,
    )
    .replace(URL_USERINFO, (_match: string, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      // The user name is kept for the reader; without a password, the user part may be a token.
      return colon > 0 ? `${scheme}${userinfo.slice(0, colon)}:${REDACTED}@` : `${scheme}${REDACTED}@`;
    });
}

/**
 * Secrets inside a secret: each long line of a PEM (logged, if ever, one line at a time), the key
 * of a base64-encoded "id:key", and each long string of a JSON key file (the private parts of a JWK).
 */
function keyParts(text: string): string[] {
  const parts: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed.length >= MIN_KEY_PART_LENGTH && !trimmed.startsWith('-----') && trimmed !== text) parts.push(trimmed);
  }
  // An API key given base64-encoded as Elasticsearch hands it out ("id:key"): its text and its key.
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0) {
    const decoded = Buffer.from(text, 'base64').toString('utf8');
    if (/^[\x21-\x7e]+:[\x21-\x7e]+$/.test(decoded)) parts.push(decoded, decoded.slice(decoded.indexOf(':') + 1));
  }
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      collectStrings(JSON.parse(text) as unknown, parts);
    } catch {
      /* not JSON: the whole text is the secret */
    }
  }
  return parts;
}

function collectStrings(value: unknown, into: string[]): void {
  if (typeof value === 'string') {
    if (value.length >= MIN_KEY_PART_LENGTH) into.push(value);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) collectStrings(item, into);
  }
}

/** The forms a secret takes in text: as is, JSON-escaped, URL-encoded, base64 (alone or inside a longer base64 text). */
function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret, JSON.stringify(secret).slice(1, -1)]);
  for (const encoded of [encodeURIComponent(secret), encodeURI(secret), new URLSearchParams({ s: secret }).toString().slice(2)]) {
    forms.add(encoded);
    forms.add(encoded.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()));
  }
  const bytes = Buffer.from(secret, 'utf8');
  forms.add(bytes.toString('base64'));
  for (const core of base64Cores(bytes)) {
    forms.add(core);
    forms.add(core.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return [...forms].filter((form) => form.length >= MIN_SECRET_LENGTH);
}

/**
 * base64 encodes three bytes in four characters, so the secret inside a longer base64 text (an
 * HTTP Basic header's `user:password`) is encoded differently depending on its offset modulo 3.
 * For each offset, the characters that depend on the secret's bytes alone: what every base64 text
 * holding the secret at that offset contains.
 */
function base64Cores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (const offset of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const first = Math.ceil((offset * 8) / 6);
    const end = Math.floor(((offset + bytes.length) * 8) / 6);
    const core = encoded.slice(first, end);
    if (core.length >= MIN_ENCODED_LENGTH) cores.push(core);
  }
  return cores;
}

function buildMatcher(): RegExp | null {
  const forms = new Set(permanentForms);
  for (const entry of rotating) for (const form of entry.forms) forms.add(form);
  if (forms.size === 0) return null;
  // Longest first: a form that contains another (the padded base64 and its core) is replaced whole.
  const sorted = [...forms].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map((form) => form.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'), 'g');
}
