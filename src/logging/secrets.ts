/**
 * The values of every secret the process has loaded (Okta tokens, passwords, API keys, private
 * keys). Log lines, error output and crash reports pass through scrubSecrets, so a secret that
 * slips into a message, an error's cause or a library's exception is replaced before it is
 * written anywhere. Field-name redaction in the logger catches the known places; this catches
 * the rest.
 */
const secretValues = new Set<string>();

/** Shorter values are not scrubbed: replacing "1" or "true" everywhere would wreck the logs. */
const MIN_SECRET_LENGTH = 6;

export const REDACTED = '[REDACTED]';

export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== 'string') return;
  const trimmed = value.trim();
  if (trimmed.length < MIN_SECRET_LENGTH) return;
  secretValues.add(trimmed);
  // The same value as it appears inside a JSON string (quotes, backslashes, control characters escaped).
  const escaped = JSON.stringify(trimmed).slice(1, -1);
  if (escaped !== trimmed) secretValues.add(escaped);
  // Private keys are logged, if ever, one line at a time: register each long line of a PEM too.
  for (const line of trimmed.split(/\r?\n/)) {
    if (line.length >= 16 && !line.startsWith('-----')) secretValues.add(line.trim());
  }
}

/**
 * Short-lived secrets (OAuth access tokens, renewed every hour) are kept in a bounded queue: the
 * newest ones are scrubbed, and a process that runs for months does not scan an ever-longer list
 * on every log line.
 */
const rotatingValues: string[] = [];
const MAX_ROTATING = 32;

export function registerRotatingSecret(value: string): void {
  if (value.length < MIN_SECRET_LENGTH || rotatingValues.includes(value)) return;
  rotatingValues.push(value);
  if (rotatingValues.length > MAX_ROTATING) rotatingValues.shift();
}

export function scrubSecrets(text: string): string {
  let result = text;
  for (const secrets of [secretValues, rotatingValues]) {
    for (const secret of secrets) {
      if (result.includes(secret)) result = result.split(secret).join(REDACTED);
    }
  }
  return result;
}

/** For tests: forget every registered secret. */
export function clearSecrets(): void {
  secretValues.clear();
  rotatingValues.length = 0;
}
