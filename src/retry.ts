/**
 * The one retry policy module. A policy is data; `retryDelayMs` turns it and an attempt number
 * into a wait. Exponential backoff with "equal jitter" (half fixed, half random) so that many
 * workers that failed together do not retry together, capped so a long outage is polled at a
 * steady pace. A server's own word (Okta's X-Rate-Limit-Reset) wins over the computed delay: the
 * caller passes it as `notBeforeMs`.
 */
export interface RetryPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
}

export const RETRY_POLICIES = {
  /** Network failures, 5xx, timeouts: retry soon, back off to a minute. */
  unreachable: { initialMs: 1_000, maxMs: 60_000, multiplier: 2 },
  /** Bad credentials or missing permission: nothing changes until a person acts; check every few minutes. */
  needsOperator: { initialMs: 30_000, maxMs: 300_000, multiplier: 2 },
  /** Elasticsearch overloaded (429), unreachable or not taking documents: hold the chunk, send it again. */
  elasticsearch: { initialMs: 500, maxMs: 30_000, multiplier: 2 },
  /** Kafka unavailable: keep the page, wait, try again. */
  kafka: { initialMs: 500, maxMs: 30_000, multiplier: 2 },
} as const satisfies Record<string, RetryPolicy>;

/** Delay before retry number `attempt` (1 for the first retry). */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

/** A wait that `stop` can cut short; returns false when it was cut short. */
export function interruptibleSleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Why retrying() ended without a result: its signal was aborted (stop, a lost partition). */
export class RetryAborted extends Error {
  constructor(what: string, options?: { cause?: unknown }) {
    super(`${what}: stopped while waiting to retry`, options);
    this.name = 'RetryAborted';
  }
}

export interface RetryingOptions {
  /** What is being done, for RetryAborted's message ("publishing a page for acme"). */
  what: string;
  /** The pacing; a function when it depends on the failure (an outage, or a refusal an operator must fix). */
  policy: RetryPolicy | ((err: unknown) => RetryPolicy);
  /** Cuts a wait short (stop(), a rebalance): retrying() then rejects with RetryAborted. */
  signal?: AbortSignal;
  /** Whether another attempt can help. Default: unless the error says `retriable: false`. */
  retriable?: (err: unknown) => boolean;
  /** The server's own word on when to try again, in ms from now (Okta's X-Rate-Limit-Reset): wins over the policy. */
  delayHintMs?: (err: unknown) => number | undefined;
  /** Hears each failure that will be retried, before the wait: the place for a log line, a metric, a state. */
  onRetry?: (err: unknown, attempt: number, waitMs: number) => void;
  /** Attempts in all before the last error is thrown; default: no limit. */
  maxAttempts?: number;
  random?: () => number;
  /** The wait between attempts; tests make it instant and record it. Resolves false when cut short. */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<boolean>;
}

/**
 * The one retry loop: runs `action` until it succeeds, an error is not retriable, the attempts
 * run out, or the signal aborts a wait. Call sites decide only what is retriable and what to say
 * while waiting; the pacing is the policy's.
 */
export async function retrying<T>(action: (attempt: number) => Promise<T>, options: RetryingOptions): Promise<T> {
  const { signal } = options;
  const retriable = options.retriable ?? ((err: unknown) => (err as { retriable?: unknown } | null)?.retriable !== false);
  for (let attempt = 1; ; attempt += 1) {
    if (signal?.aborted) throw new RetryAborted(options.what);
    try {
      return await action(attempt);
    } catch (err) {
      if (err instanceof RetryAborted) throw err;
      if (signal?.aborted) throw new RetryAborted(options.what, { cause: err });
      if (!retriable(err) || attempt >= (options.maxAttempts ?? Infinity)) throw err;
      const policy = typeof options.policy === 'function' ? options.policy(err) : options.policy;
      const waitMs = Math.max(0, options.delayHintMs?.(err) ?? retryDelayMs(policy, attempt, options.random));
      options.onRetry?.(err, attempt, waitMs);
      const waited = await (options.sleep ?? defaultSleep)(waitMs, signal);
      if (!waited || signal?.aborted) throw new RetryAborted(options.what, { cause: err });
    }
  }
}

function defaultSleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return signal ? interruptibleSleep(ms, signal) : new Promise((resolve) => setTimeout(() => resolve(true), ms));
}

/** Hears that a start waits for a dependency (and why), or no longer does (reason undefined). */
export type WaitingListener = (dependency: string, reason: string | undefined, retryInMs?: number) => void;

/**
 * A dependency reached while a service starts (Kafka, Elasticsearch, the schema registry): every
 * failure is waited out with the `unreachable` policy, an operator's fix (a password file, an
 * ACL) included, and `onWaiting` says what is awaited until it answers. Only the signal ends it.
 */
export async function untilAvailable<T>(dependency: string, what: string, action: () => Promise<T>, options: { signal?: AbortSignal; onWaiting?: WaitingListener; policy?: RetryPolicy }): Promise<T> {
  try {
    return await retrying(action, {
      what,
      policy: options.policy ?? RETRY_POLICIES.unreachable,
      retriable: () => true,
      ...(options.signal ? { signal: options.signal } : {}),
      onRetry: (err, _attempt, waitMs) => options.onWaiting?.(dependency, `${what}: ${(err as Error).message}`, waitMs),
    });
  } finally {
    options.onWaiting?.(dependency, undefined);
  }
}
