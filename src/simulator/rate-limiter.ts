/**
 * Okta's per-minute budget for one endpoint (okta-system-log-api.md section 2): a fixed window
 * aligned on the clock's minutes (Okta's example reset, 1609459200, is a whole minute), counted
 * for every request, refused ones included. X-Rate-Limit-Reset is the end of the current window
 * in UTC epoch seconds.
 *
 * An infinite budget never refuses, but the headers are still sent (clients read them on every
 * response) with UNLIMITED_REPORTED_LIMIT as the limit: a finite number a client can parse and
 * take its share of.
 */
export const UNLIMITED_REPORTED_LIMIT = 1_000_000;

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** UTC epoch seconds. */
  reset: number;
}

export class RateLimiter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private used = 0;

  constructor(
    private readonly limitPerMinute: number,
    private readonly now: () => number,
    private readonly windowMs = 60_000,
  ) {}

  /** Count one request and say whether it is within the budget. */
  take(): RateLimitDecision {
    this.roll();
    this.used++;
    return this.decision(this.used <= this.limitPerMinute);
  }

  /** The headers for a response refused for another reason (an injected 429): nothing left. */
  exhausted(): RateLimitDecision {
    this.roll();
    return { ...this.decision(false), remaining: 0 };
  }

  private roll(): void {
    const start = Math.floor(this.now() / this.windowMs) * this.windowMs;
    if (start !== this.windowStart) {
      this.windowStart = start;
      this.used = 0;
    }
  }

  private decision(allowed: boolean): RateLimitDecision {
    const limit = Number.isFinite(this.limitPerMinute) ? this.limitPerMinute : UNLIMITED_REPORTED_LIMIT;
    return {
      allowed: allowed || !Number.isFinite(this.limitPerMinute),
      limit,
      remaining: Math.max(0, limit - this.used),
      reset: Math.ceil((this.windowStart + this.windowMs) / 1000),
    };
  }
}

export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  return {
    'x-rate-limit-limit': String(decision.limit),
    'x-rate-limit-remaining': String(decision.remaining),
    'x-rate-limit-reset': String(decision.reset),
  };
}
