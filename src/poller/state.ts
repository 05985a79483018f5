import type { ErrorCode } from '../errors.js';
import type { BudgetWaitCause } from '../okta/rate-limit.js';
import type { RETRY_POLICIES } from '../retry.js';

/** One state per org connector at a time; each says what the operator must do (DESIGN.md, guarantee 6). */
export const CONNECTOR_STATES = ['connected', 'backfilling', 'rate_limited', 'unauthorized', 'forbidden', 'unreachable', 'misconfigured'] as const;
export type ConnectorState = (typeof CONNECTOR_STATES)[number];

/** States in which the connector is doing its job, or waiting for Okta's rate limit as it should. */
export const WORKING_STATES: ReadonlySet<ConnectorState> = new Set(['connected', 'backfilling', 'rate_limited']);

export interface FailureHandling {
  state: ConnectorState;
  /** Which retry policy paces the attempts. */
  retry: keyof typeof RETRY_POLICIES;
  /** The metric outcome of the Okta request. */
  outcome: string;
}

/** How the poller reacts to a failure, by error code: the state to show and the retry policy. */
export function failureHandling(code: ErrorCode): FailureHandling {
  switch (code) {
    case 'OF_OKTA_RATE_LIMITED':
      return { state: 'rate_limited', retry: 'unreachable', outcome: 'rate_limited' };
    case 'OF_OKTA_UNAUTHORIZED':
    case 'OF_OAUTH_TOKEN':
    case 'OF_SECRET_UNREADABLE':
      return { state: 'unauthorized', retry: 'needsOperator', outcome: 'unauthorized' };
    case 'OF_OKTA_FORBIDDEN':
      return { state: 'forbidden', retry: 'needsOperator', outcome: 'forbidden' };
    case 'OF_OKTA_BAD_REQUEST':
      return { state: 'misconfigured', retry: 'needsOperator', outcome: 'bad_request' };
    case 'OF_OKTA_FOREIGN_HOST':
      return { state: 'misconfigured', retry: 'needsOperator', outcome: 'foreign_host' };
    case 'OF_OKTA_CURSOR_REJECTED':
      return { state: 'unreachable', retry: 'unreachable', outcome: 'cursor_rejected' };
    case 'OF_OKTA_BAD_RESPONSE':
      return { state: 'unreachable', retry: 'unreachable', outcome: 'bad_response' };
    default:
      return { state: 'unreachable', retry: 'unreachable', outcome: 'unreachable' };
  }
}

/**
 * Why a request waits for the org's rate budget: `pacing` spaces requests evenly within the
 * share; `share` waits for the next window once the configured share is spent (both by design);
 * `org_budget` (Okta reports nothing left for the whole org) and `too_many_requests` (a 429)
 * wait for Okta's reset because others spend the org's budget.
 */
export type RateLimitWaitCause = BudgetWaitCause | 'too_many_requests';

/** A rate-limited state caused by the forwarder's own share (by design), or by Okta's limit for the whole org (others spend it). */
export type RateLimitedBy = 'share' | 'okta';

/** What changed in the state an operator sees, and why. */
export interface StateChange {
  from: ConnectorState | undefined;
  to: ConnectorState;
  reason: string;
  /** For `rate_limited`, and for the state that follows it: whose limit. */
  rateLimitedBy?: RateLimitedBy;
}

/**
 * The state an operator sees, derived from what the poller is actually waiting on, not from
 * whichever part of it spoke last. The main loop says what it does (backfilling, connected, or a
 * failure's state); each request that waits for the rate budget's next window says so for as
 * long as it waits, the main loop's or one read ahead. So a request waiting 40 s for the budget
 * shows `rate_limited` for those 40 s, however often the main loop publishes meanwhile. A state
 * that needs the operator (unauthorized, forbidden, unreachable, misconfigured) wins over both.
 */
export class ConnectorStatus {
  private loop: { state: ConnectorState; reason: string; rateLimitedBy?: RateLimitedBy } | undefined;
  private readonly budgetWaits = new Set<{ by: RateLimitedBy; reason: string }>();
  private shown: { state: ConnectorState; rateLimitedBy: RateLimitedBy | undefined } | undefined;

  constructor(private readonly onChange: (change: StateChange) => void) {}

  /** The state shown, undefined before the main loop said anything. */
  get state(): ConnectorState | undefined {
    return this.shown?.state;
  }

  /** The main loop's own state (its failures' states, or what it reads): the state shown unless a request waits for the budget. */
  get loopState(): ConnectorState | undefined {
    return this.loop?.state;
  }

  setLoopState(state: ConnectorState, reason: string, rateLimitedBy?: RateLimitedBy): void {
    this.loop = { state, reason, ...(rateLimitedBy ? { rateLimitedBy } : {}) };
    this.update();
  }

  /** A request waits for the next window of the rate budget until the returned function is called. */
  waitingForBudget(by: RateLimitedBy, reason: string): () => void {
    const wait = { by, reason };
    this.budgetWaits.add(wait);
    this.update();
    return () => {
      if (this.budgetWaits.delete(wait)) this.update();
    };
  }

  private update(): void {
    const next = this.derive();
    if (!next) return;
    const previous = this.shown;
    if (previous?.state === next.state && previous.rateLimitedBy === next.rateLimitedBy) return;
    this.shown = { state: next.state, rateLimitedBy: next.rateLimitedBy };
    // Leaving a rate-limited state says whose limit it was, so the line has the same level as the one that entered it.
    const by = next.rateLimitedBy ?? (previous?.state === 'rate_limited' && WORKING_STATES.has(next.state) ? previous.rateLimitedBy : undefined);
    this.onChange({ from: previous?.state, to: next.state, reason: next.reason, ...(by ? { rateLimitedBy: by } : {}) });
  }

  private derive(): { state: ConnectorState; reason: string; rateLimitedBy: RateLimitedBy | undefined } | undefined {
    const loop = this.loop;
    if (loop && !WORKING_STATES.has(loop.state)) return { state: loop.state, reason: loop.reason, rateLimitedBy: undefined };
    const waits = [...this.budgetWaits];
    // Okta's limit says more to an operator than the forwarder's own share: it is shown first.
    const wait = waits.find((w) => w.by === 'okta') ?? waits[0];
    if (loop?.state === 'rate_limited' && loop.rateLimitedBy === 'okta') return { state: 'rate_limited', reason: loop.reason, rateLimitedBy: 'okta' };
    if (wait) return { state: 'rate_limited', reason: wait.reason, rateLimitedBy: wait.by };
    if (!loop) return undefined;
    return { state: loop.state, reason: loop.reason, rateLimitedBy: loop.state === 'rate_limited' ? (loop.rateLimitedBy ?? 'okta') : undefined };
  }
}

/** What the operator does about each state: the README's state table, for `status` and `/status`. */
export const WHAT_TO_DO: Readonly<Record<ConnectorState, string>> = {
  connected: 'nothing',
  backfilling: 'nothing: the history is being read',
  rate_limited: "nothing; lower other integrations' use of the System Log API, or raise rateLimitShare",
  unauthorized: 'create a new API token or fix the OAuth key, in its file: it is read again at once, no restart needed',
  forbidden: "give the token's admin a role that views the System Log (Read-only, Report or Super admin); a service app needs okta.logs.read granted and an admin role",
  unreachable: "check DNS, egress and proxy to the org's domain, and status.okta.com; nothing is lost meanwhile",
  misconfigured: "fix the org's configuration (its domain); the reason names what Okta refused",
};
