import type { JWK } from 'jose';
import type { FaultKind, FaultOptions } from './faults.js';
import type { OktaEvent } from './okta-event.js';
import type { AuthScheme } from './resource-auth.js';

export type { FaultKind, FaultOptions, OktaEvent, AuthScheme };

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Valid SSWS API tokens. */
  apiTokens?: string[];
  /** The org's API Services app, for OAuth 2.0 client credentials with private_key_jwt. */
  oauth?: {
    clientId: string;
    /** The app's public key: a JWK, or a PEM (SPKI, PKCS#1 or certificate). */
    publicKey: JWK | string;
    /** The app requires DPoP-bound tokens (token requests without a proof are refused). */
    requireDpop?: boolean;
    /** Default 3600, Okta's fixed lifetime. */
    accessTokenTtlSeconds?: number;
  };
  /** X-Rate-Limit-Limit for /api/v1/logs; default 120 (Workforce Identity). Infinity: never 429, headers still sent. */
  rateLimitPerMinute?: number;
  /**
   * Length of the rate-limit window in seconds (default 60, Okta's minute). Tests shorten it so a
   * 429's X-Rate-Limit-Reset is seconds away; the limit then applies per window.
   */
  rateLimitWindowSeconds?: number;
  /** Deterministic event content when given. */
  seed?: number;
  /** The clock, epoch ms; default Date.now. Drives published times, retention, rate windows, token expiry, DPoP iat. */
  now?: () => number;
}

export interface GenerateOptions {
  /** Earliest published time, epoch ms. Default: one minute before `to`. */
  from?: number;
  /** Latest published time, epoch ms. Default: now minus lateMs. */
  to?: number;
  /**
   * Make the events late: each is persisted `lateMs` after its published time (and never before
   * anything already stored), so polling clients see it after events published later, and
   * bounded windows already read miss it.
   */
  lateMs?: number;
}

export interface RecordedRequest {
  method: string;
  /** The path without the query: /api/v1/logs or /oauth2/v1/token. */
  path: string;
  /** Query parameters (first value of each). */
  query: Record<string, string>;
  /** The Authorization scheme used, never the credential; `private_key_jwt` for token requests with an assertion. */
  auth: AuthScheme | 'private_key_jwt';
  /** The HTTP status sent; 0 when the connection was reset on purpose. */
  status: number;
  /** On the simulator's clock, epoch ms. */
  time: number;
  /** The injected fault that shaped the response, if any. */
  fault?: FaultKind;
  /** Events in the response body (/api/v1/logs 200 only). */
  eventCount?: number;
}

export interface SimulatorHandle {
  /** For example http://127.0.0.1:43121 */
  readonly url: string;
  /** host:port, what a forwarder config puts in `domain` (with allowInsecureHttp). */
  readonly domain: string;
  /** Generate `count` realistic events published over [from, to]; stored at once, in published order unless late. */
  generate(count: number, options?: GenerateOptions): OktaEvent[];
  /**
   * Store the given events as they are (any JSON objects, quirks included), persisted now. An
   * event whose `published` is not an ISO 8601 timestamp is placed at its persistence time for
   * bounded queries and retention.
   */
  append(events: object[]): void;
  /**
   * Store one page item as the exact JSON text given, persisted now, for what JSON.stringify
   * cannot write: a number such as `1e400`, duplicate keys, a `\r` between tokens, an item that
   * is not an object. It must be one JSON value (the page stays a JSON array). Its text is not
   * read for a time: it is placed at its persistence time for bounded queries and retention, so
   * every poll that reaches it serves it, whatever its `published` says.
   */
  appendRaw(json: string): void;
  /** Generate events continuously at `perMinute`, published as they are generated, until the returned function is called. */
  startLiveTraffic(perMinute: number): () => void;
  /** Make the next `count` /api/v1/logs requests fail in the given way (queued after earlier injections). */
  injectFaults(kind: FaultKind, count: number, options?: FaultOptions): void;
  /** Refuse this API token or access token from now on. */
  revokeToken(token: string): void;
  /** Accept this API token (again). */
  addToken(token: string): void;
  /** Every request handled, oldest first; a long run keeps at least the last MAX_RECORDED_REQUESTS. */
  readonly requests: readonly RecordedRequest[];
  /** Events stored, including those now past retention. */
  readonly eventCount: number;
  close(): Promise<void>;
}
