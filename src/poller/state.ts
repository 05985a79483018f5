import type { ErrorCode } from '../errors.js';
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
