import { scrubSecrets } from './logging/secrets.js';

/**
 * The one error type of the forwarder. Every failure that crosses a stage boundary is a
 * ForwarderError: `code` says what kind of failure it is (one of ERROR_CODES), `retriable` says
 * whether trying the same thing again later can succeed, `cause` keeps the underlying error.
 * Messages start with what was being done ("loading configuration from x.json: ...") and never
 * carry a secret: a message quotes servers and libraries, so it is scrubbed as it is made (and
 * again wherever it is written, for secrets registered later).
 */
export const ERROR_CODES = [
  'OF_CONFIG_INVALID',
  'OF_CONFIG_UNREADABLE',
  'OF_INSTALLATION',
  'OF_SECRET_UNREADABLE',
  'OF_STACK_PREREQUISITE',
  'OF_STACK_START',
  'OF_STACK_TIMEOUT',
  // Okta: what the connector state machine branches on (see src/poller).
  'OF_OKTA_UNAUTHORIZED',
  'OF_OKTA_FORBIDDEN',
  'OF_OKTA_RATE_LIMITED',
  'OF_OKTA_UNREACHABLE',
  'OF_OKTA_CURSOR_REJECTED',
  'OF_OKTA_BAD_REQUEST',
  'OF_OKTA_BAD_RESPONSE',
  'OF_OKTA_FOREIGN_HOST',
  'OF_OAUTH_TOKEN',
  // Avro records.
  'OF_AVRO_ENCODE',
  'OF_AVRO_DECODE',
  // The Confluent schema registry (optional): what the poller and the sink branch on.
  'OF_SCHEMA_REGISTRY_UNREACHABLE',
  'OF_SCHEMA_REGISTRY_UNAUTHORIZED',
  'OF_SCHEMA_REGISTRY_INCOMPATIBLE',
  'OF_SCHEMA_REGISTRY_REFUSED',
  // Kafka.
  'OF_KAFKA_CONNECTION',
  'OF_KAFKA_TOPIC',
  'OF_KAFKA_PUBLISH',
  'OF_KAFKA_FENCED',
  'OF_KAFKA_UNREACHABLE',
  'OF_IMPORT_INPUT',
  // The sink.
  'OF_NORMALIZE',
  'OF_ELASTICSEARCH',
  'OF_ELASTICSEARCH_CONNECTION',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class ForwarderError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(scrubSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ForwarderError';
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** Configuration errors carry every problem found, each naming its key, so they can be fixed at once. */
export class ConfigError extends ForwarderError {
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super(
      'OF_CONFIG_INVALID',
      `invalid configuration (${source}): ${problems.length} problem${problems.length === 1 ? '' : 's'}\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems.map(scrubSecrets);
  }
}
