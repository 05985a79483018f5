import pino, { type DestinationStream, type Logger } from 'pino';
import { REDACTED, scrubSecrets } from './secrets.js';

export type { Logger } from 'pino';

/**
 * Field paths whose values are secrets wherever they appear in a log object: credentials in
 * configuration, HTTP authorization headers, OAuth assertions and tokens. Pino's redaction matches
 * paths, not values; scrubSecrets (secrets.ts) then removes any registered secret value that is
 * left in the written line.
 */
const SECRET_KEYS = [
  'password',
  'apiKey',
  'api_key',
  'token',
  'accessToken',
  'access_token',
  'refresh_token',
  'id_token',
  'client_assertion',
  'clientSecret',
  'client_secret',
  'privateKey',
  'private_key',
  'authorization',
  'Authorization',
  'dpop',
  'DPoP',
  'cookie',
  'sasl',
];

export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  ...SECRET_KEYS.map((key) => `*.*.${key}`),
  ...SECRET_KEYS.map((key) => `*.headers.${key}`),
  ...SECRET_KEYS.map((key) => `*.*.*.${key}`),
];

export interface LoggerOptions {
  level: string;
  /** Where JSON lines go; stdout when absent. */
  destination?: DestinationStream;
  /** Fields on every line, such as the role of the process. */
  base?: Record<string, unknown>;
}

/** The forwarder's logger: JSON lines, ISO times, secrets redacted by path and scrubbed by value. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { name: 'okta-forwarder', ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      hooks: { streamWrite: scrubSecrets },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
