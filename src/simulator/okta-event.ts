/**
 * The shape of the System Log events the simulator generates: the LogEvent objects of Okta's
 * OpenAPI spec, with every object present. Real events may omit nulls, add fields, or be
 * irregular; `append` accepts any JSON object for that, so this type describes what the
 * generator writes, not what a consumer may assume. A type alias, not an interface, so that it
 * is assignable to Record<string, unknown> (what code that handles any Okta event takes).
 */
export type OktaEvent = {
  uuid: string;
  /** ISO 8601 with milliseconds, UTC: 2024-05-01T12:34:56.789Z. */
  published: string;
  eventType: string;
  version: string;
  severity: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  legacyEventType: string | null;
  displayMessage: string | null;
  actor: OktaActor;
  client: OktaClient;
  request: { ipChain: OktaIpAddress[] };
  outcome: { result: string; reason: string | null };
  target: OktaTarget[];
  transaction: { type: 'WEB' | 'JOB'; id: string; detail: Record<string, unknown> };
  debugContext: { debugData: Record<string, unknown> };
  authenticationContext: {
    authenticationProvider: string | null;
    credentialProvider: string | null;
    credentialType: string | null;
    issuer: { id: string; type: string } | null;
    interface: string | null;
    authenticationStep: number;
    externalSessionId: string;
  };
  securityContext: {
    asNumber: number | null;
    asOrg: string | null;
    isp: string | null;
    domain: string | null;
    isProxy: boolean | null;
  };
};

export interface OktaActor {
  id: string;
  type: string;
  alternateId: string;
  displayName: string;
  detailEntry: Record<string, unknown> | null;
}

export interface OktaTarget extends OktaActor {
  changeDetails?: { from: Record<string, unknown>; to: Record<string, unknown> };
}

export interface OktaGeographicalContext {
  city: string;
  state: string;
  country: string;
  postalCode: string;
  geolocation: { lat: number; lon: number };
}

export interface OktaClient {
  userAgent: { rawUserAgent: string; os: string; browser: string };
  zone: string;
  device: string;
  id: string | null;
  ipAddress: string;
  geographicalContext: OktaGeographicalContext;
}

export interface OktaIpAddress {
  ip: string;
  geographicalContext: OktaGeographicalContext;
  version: 'V4' | 'V6';
  source: string | null;
}
