/**
 * The Okta System Log simulator: one simulated Okta org on loopback, serving `/api/v1/logs` and
 * `/oauth2/v1/token` as docs/okta-system-log-api.md describes them, for tests, the `simulate`
 * command and the demo.
 *
 * Behaviour decided where Okta's facts are [UNVERIFIED] or [CONFLICT] (details in logs-query.ts,
 * cursor.ts and rate-limiter.ts):
 *   - `limit` above 1000 is clamped to 1000;
 *   - `after` cursors are base64url(position) + "." + a truncated HMAC with a per-simulator
 *     secret; an altered or foreign cursor gives 400 E0000029;
 *   - `since` together with `after` is accepted and `since` ignored; polling next links carry
 *     only `after` and `limit`, bounded ones also the effective since/until;
 *   - the rate window is the clock's minute; with no limit the headers report 1,000,000.
 */
export { startSimulator, MAX_RECORDED_REQUESTS } from './server.js';
export { runSimulator, type RunSimulatorArgs } from './run.js';
export { FAULT_KINDS } from './faults.js';
export type {
  AuthScheme,
  FaultKind,
  FaultOptions,
  GenerateOptions,
  OktaEvent,
  RecordedRequest,
  SimulatorHandle,
  SimulatorOptions,
} from './types.js';
