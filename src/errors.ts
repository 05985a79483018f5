/**
 * The one error type of the forwarder. Every failure that crosses a stage boundary is a
 * ForwarderError: `code` says what kind of failure it is (one of ERROR_CODES), `retriable` says
 * whether trying the same thing again later can succeed, `cause` keeps the underlying error.
 * Messages start with what was being done ("loading configuration from x.json: ...") and never
 * carry a secret.
 */
export const ERROR_CODES = [
  'OF_CONFIG_INVALID',
  'OF_CONFIG_UNREADABLE',
  'OF_SECRET_UNREADABLE',
  'OF_STACK_PREREQUISITE',
  'OF_STACK_START',
  'OF_STACK_TIMEOUT',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class ForwarderError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
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
    this.problems = problems;
  }
}
