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
