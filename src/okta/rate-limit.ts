/**
 * Okta's per-minute budget for /api/v1/logs is org-wide and shared with every other integration.
 * RateBudget reads X-Rate-Limit-* from every response and lets the poller spend at most
 * `share` of the limit in each window; the rest is left to others. A tailing poller's requests are
 * spread evenly over the window; a backlog (a backfill, a catch-up) spends the window's share
 * without spacing, then waits for the reset. When another client has already spent the org's
 * budget (Remaining at zero), it waits for the reset too.
 */
export interface RateLimitSnapshot {
  limit: number;
  remaining: number;
  /** When the window resets, epoch ms (Okta sends epoch seconds). */
  resetAtMs: number;
}

export function readRateLimit(headers: Record<string, string | string[] | undefined>): RateLimitSnapshot | undefined {
  const value = (name: string) => {
    const raw = headers[name];
    const text = Array.isArray(raw) ? raw[0] : raw;
    const number = text === undefined ? Number.NaN : Number(text);
    return Number.isFinite(number) ? number : undefined;
  };
  const limit = value('x-rate-limit-limit');
  const remaining = value('x-rate-limit-remaining');
  const reset = value('x-rate-limit-reset');
  if (limit === undefined || remaining === undefined || reset === undefined) return undefined;
  return { limit, remaining, resetAtMs: reset * 1000 };
}

/** Why a request waits for the budget (see RateBudget.waitCause). */
export type BudgetWaitCause = 'pacing' | 'share' | 'org_budget';

export class RateBudget {
  private snapshot: RateLimitSnapshot | undefined;
  /** Requests this poller sent in the window that resets at `windowResetAtMs`. */
  private usedInWindow = 0;
  private windowResetAtMs = 0;
  /** Earliest time of the next request: the share left spread over the window left. */
  private nextAtMs = 0;

  constructor(
    private readonly share: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Called after every response that carried the headers. */
  observe(snapshot: RateLimitSnapshot): void {
    if (snapshot.resetAtMs !== this.windowResetAtMs) {
      // A new window: what was counted belonged to the previous one, except this request.
      this.windowResetAtMs = snapshot.resetAtMs;
      this.usedInWindow = 0;
    }
    this.usedInWindow += 1;
    this.snapshot = snapshot;
    // Requests go out at a steady pace: what is left of the share spread over what is left of the
    // window. The same number per window as sending them all at once and then waiting, but never
    // a minute without a request, so a revoked token or a new event is seen within seconds.
    const now = this.now();
    const left = this.allowed(snapshot) - this.usedInWindow;
    this.nextAtMs = left > 0 ? now + Math.max(0, snapshot.resetAtMs - now) / (left + 1) : snapshot.resetAtMs;
  }

  private allowed(snapshot: RateLimitSnapshot): number {
    return Math.max(1, Math.floor(snapshot.limit * this.share));
  }

  /**
   * How long to wait before the next request may be sent (0: now). A `backlog` request (the page
   * after a full one) is not spaced: the window's share goes out as fast as pages come, since
   * spreading it would end a backfill up to one window later than the share allows, and the
   * same number of requests per window is left to others either way.
   */
  delayMs(backlog = false): number {
    const snapshot = this.snapshot;
    if (!snapshot) return 0;
    const now = this.now();
    if (now >= snapshot.resetAtMs) return 0;
    if (this.usedInWindow >= this.allowed(snapshot) || snapshot.remaining <= 0) return snapshot.resetAtMs - now;
    return backlog ? 0 : Math.max(0, Math.round(this.nextAtMs - now));
  }

  /**
   * Why the next request waits, when it does: its turn within the share (`pacing`), the window's
   * reset because the share is spent (`share`), or because Okta reports the org's whole budget
   * spent, by others too (`org_budget`).
   */
  waitCause(backlog = false): BudgetWaitCause | undefined {
    const snapshot = this.snapshot;
    if (!snapshot || this.delayMs(backlog) <= 0) return undefined;
    if (snapshot.remaining <= 0) return 'org_budget';
    return this.usedInWindow >= this.allowed(snapshot) ? 'share' : 'pacing';
  }

  /** Share of the org's limit this poller used in the current window (0..1). */
  shareUsed(): number {
    if (!this.snapshot || this.now() >= this.snapshot.resetAtMs || this.snapshot.limit <= 0) return 0;
    return Math.min(1, this.usedInWindow / this.snapshot.limit);
  }

  current(): RateLimitSnapshot | undefined {
    return this.snapshot;
  }
}
