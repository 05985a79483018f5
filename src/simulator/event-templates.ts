import type { OktaActor, OktaClient, OktaEvent, OktaIpAddress, OktaTarget } from './okta-event.js';
import type { App, OrgDirectory, Person, Place, UserAgent } from './org-directory.js';
import { SUSPICIOUS_PLACES } from './org-directory.js';
import type { Random } from './random.js';

/**
 * Event templates: what one thing happening in the org writes to the System Log. A scenario
 * (a sign-in, an admin change) is a short run of related events that share an actor, a client, a
 * session and, where Okta does so, a transaction, the way real exports do. Field values are
 * modelled on public real events (the elastic/integrations and elastic/beats Okta fixtures,
 * Okta's docs example, panther-analysis rule tests); every LogEvent object is present on every
 * event. Scenarios return events with an empty `published`: the generator places them in time.
 */

/**
 * An event and where it came from. Events of one scenario that share an origin (and so an
 * actor) have identical actor, client, request and securityContext: the generator serializes
 * those once per origin instead of once per event.
 */
export interface Emitted {
  event: OktaEvent;
  origin: object;
}

/** Where and how a request reached Okta: shared by the events of one scenario. */
interface Origin {
  place: Place;
  ip: string;
  agent: UserAgent;
  zone: string;
  clientId: string | null;
  /** Okta's own background work (transaction type JOB): no network security data. */
  job: boolean;
}

export interface Scenario {
  weight: number;
  run(random: Random, dir: OrgDirectory): Emitted[];
}

export function pickScenario(random: Random): Scenario {
  let roll = random.float() * TOTAL_WEIGHT;
  for (const scenario of SCENARIOS) {
    roll -= scenario.weight;
    if (roll < 0) return scenario;
  }
  return SCENARIOS[0] as Scenario;
}

// ---------------------------------------------------------------------------------------------
// Scenarios. Weights are relative; sign-ins dominate, as in a real workforce org. Failures and
// denials are a few percent of all events.

const SCENARIOS: readonly Scenario[] = [
  { weight: 42, run: signIn },
  { weight: 30, run: singleSignOn },
  { weight: 8, run: signOut },
  { weight: 4, run: verifyIdentity },
  { weight: 3, run: factorChange },
  { weight: 5, run: groupMembership },
  { weight: 3, run: appAssignment },
  { weight: 0.6, run: privilegeGrant },
  { weight: 0.6, run: apiTokenLifecycle },
  { weight: 1, run: bruteForce },
];
const TOTAL_WEIGHT = SCENARIOS.reduce((sum, s) => sum + s.weight, 0);

/** Policy evaluation, password, MFA, session start, then often a first app. */
function signIn(random: Random, dir: OrgDirectory): Emitted[] {
  const user = random.pick(dir.users);
  const origin = userOrigin(random, dir, user);
  const session = sessionId(random);
  const tx = requestId(random);
  const policy = random.pick(dir.policies);
  const roll = random.float();
  const decision = roll < 0.03 ? 'DENY' : roll < 0.1 ? 'CHALLENGE' : 'ALLOW';
  const events: Emitted[] = [];
  const debug = { requestUri: '/idp/idx/identify', url: '/idp/idx/identify?', ...loginDebug(random, tx) };
  events.push(
    event(random, {
      eventType: 'policy.evaluate_sign_on',
      legacyEventType: null,
      displayMessage: 'Evaluation of sign-on policy',
      severity: decision === 'DENY' ? 'WARN' : 'INFO',
      actor: person(user),
      origin,
      outcome: { result: decision, reason: `Sign-on policy evaluation resulted in ${decision}` },
      target: [
        { id: policy.id, type: 'PolicyEntity', alternateId: 'unknown', displayName: policy.name, detailEntry: { policyType: 'OktaSignOn' } },
        { id: policy.ruleId, type: 'PolicyRule', alternateId: policy.id, displayName: policy.ruleName, detailEntry: null },
      ],
      tx: { type: 'WEB', id: tx, detail: {} },
      debugData: debug,
      session,
    }),
  );
  if (decision === 'DENY') {
    events.push(sessionStart(random, user, origin, session, tx, { result: 'FAILURE', reason: 'DENIED_BY_POLICY' }));
    return events;
  }
  if (random.chance(0.04)) {
    events.push(sessionStart(random, user, origin, session, tx, { result: 'FAILURE', reason: random.chance(0.8) ? 'INVALID_CREDENTIALS' : 'VERIFICATION_ERROR' }));
    return events;
  }
  const mfaFailed = random.chance(0.03);
  events.push(mfa(random, user, origin, session, tx, mfaFailed));
  if (mfaFailed) return events;
  events.push(sessionStart(random, user, origin, session, tx, { result: 'SUCCESS', reason: null }));
  if (random.chance(0.6)) events.push(sso(random, user, random.pick(dir.apps), origin, session));
  return events;
}

function singleSignOn(random: Random, dir: OrgDirectory): Emitted[] {
  const user = random.pick(dir.users);
  const origin = userOrigin(random, dir, user);
  const session = sessionId(random);
  const count = random.chance(0.25) ? 2 : 1;
  const events: Emitted[] = [];
  for (let i = 0; i < count; i++) events.push(sso(random, user, random.pick(dir.apps), origin, session));
  return events;
}

function signOut(random: Random, dir: OrgDirectory): Emitted[] {
  const user = random.pick(dir.users);
  const tx = requestId(random);
  return [
    event(random, {
      eventType: 'user.session.end',
      legacyEventType: 'core.user_auth.logout_success',
      displayMessage: 'User logout from Okta',
      severity: 'INFO',
      actor: person(user),
      origin: userOrigin(random, dir, user),
      outcome: { result: 'SUCCESS', reason: null },
      target: [],
      tx: { type: 'WEB', id: tx, detail: {} },
      debugData: { requestId: tx, requestUri: '/login/signout', url: '/login/signout?message=login_page_messages.session_has_expired', threatSuspected: 'false' },
      session: sessionId(random),
    }),
  ];
}

function verifyIdentity(random: Random, dir: OrgDirectory): Emitted[] {
  const user = random.pick(dir.users);
  const tx = requestId(random);
  const factor = random.base62(20);
  const failed = random.chance(0.04);
  return [
    event(random, {
      eventType: 'user.authentication.verify',
      legacyEventType: null,
      displayMessage: 'Verify user identity',
      severity: failed ? 'WARN' : 'INFO',
      actor: person(user),
      origin: userOrigin(random, dir, user),
      outcome: failed ? { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' } : { result: 'SUCCESS', reason: null },
      target: [userTarget(user)],
      tx: { type: 'WEB', id: tx, detail: {} },
      debugData: { requestUri: `/api/v1/authn/factors/${factor}/verify`, url: `/api/v1/authn/factors/${factor}/verify?autoPush=false&rememberDevice=false`, ...loginDebug(random, tx) },
      session: sessionId(random),
    }),
  ];
}

function factorChange(random: Random, dir: OrgDirectory): Emitted[] {
  const user = random.pick(dir.users);
  const activate = random.chance(0.7);
  const factor = random.pick(FACTORS);
  const tx = requestId(random);
  return [
    event(random, {
      eventType: activate ? 'user.mfa.factor.activate' : 'user.mfa.factor.deactivate',
      legacyEventType: activate ? 'core.user.factor.activate' : 'core.user.factor.deactivate',
      displayMessage: activate ? 'Activate factor or authenticator' : 'Reset factor or authenticator',
      severity: 'INFO',
      actor: person(user),
      origin: userOrigin(random, dir, user),
      outcome: { result: 'SUCCESS', reason: activate ? null : 'User reset FACTOR' },
      target: [userTarget(user)],
      tx: { type: 'WEB', id: tx, detail: {} },
      debugData: { requestId: tx, requestUri: '/idp/idx/challenge/answer', url: '/idp/idx/challenge/answer?', factor: factor.factor, factorIntent: activate ? 'ENROLLMENT' : 'RESET', dtHash: random.hex(64) },
      session: sessionId(random),
      authn: { authenticationProvider: 'FACTOR_PROVIDER', credentialProvider: factor.provider, credentialType: factor.type },
    }),
  ];
}

/** An admin changes a group; for app-linked groups Okta then assigns the app, as a JOB. */
function groupMembership(random: Random, dir: OrgDirectory): Emitted[] {
  const admin = random.pick(dir.admins);
  const user = random.pick(dir.users);
  const group = random.pick(dir.groups);
  const add = random.chance(0.75);
  // A third of admin changes come from automation with an API token, as Okta records them.
  const viaApi = random.chance(0.33);
  const origin = viaApi ? { ...userOrigin(random, dir, admin), agent: random.pick(dir.apiClients) } : userOrigin(random, dir, admin);
  const tx = requestId(random);
  const events = [
    event(random, {
      eventType: add ? 'group.user_membership.add' : 'group.user_membership.remove',
      legacyEventType: add ? 'core.user_group_member.user_add' : 'core.user_group_member.user_remove',
      displayMessage: add ? 'Add user to group membership' : 'Remove user from group membership',
      severity: 'INFO',
      actor: person(admin),
      origin,
      outcome: { result: 'SUCCESS', reason: null },
      target: [userTarget(user), { id: group.id, type: 'UserGroup', alternateId: 'unknown', displayName: group.name, detailEntry: null }],
      tx: { type: 'WEB', id: tx, detail: viaApi ? { requestApiTokenId: dir.automationTokenId } : {} },
      debugData: { requestId: tx, requestUri: `/api/v1/groups/${group.id}/users/${user.id}`, url: `/api/v1/groups/${group.id}/users/${user.id}?`, dtHash: random.hex(64) },
      session: sessionId(random),
    }),
  ];
  if (add && random.chance(0.4)) events.push(appMembership(random, dir.system, user, random.pick(dir.apps), jobOrigin(random)));
  return events;
}

function appAssignment(random: Random, dir: OrgDirectory): Emitted[] {
  const admin = random.pick(dir.admins);
  return [appMembership(random, person(admin), random.pick(dir.users), random.pick(dir.apps), userOrigin(random, dir, admin))];
}

function privilegeGrant(random: Random, dir: OrgDirectory): Emitted[] {
  const admin = random.pick(dir.admins);
  const user = random.pick(dir.users);
  const tx = requestId(random);
  const role = random.pick(['Read-only Administrator', 'Report Administrator', 'Help Desk Administrator', 'Application administrator (all)', 'Organization administrator']);
  return [
    event(random, {
      eventType: 'user.account.privilege.grant',
      legacyEventType: 'core.user.admin_privilege.granted',
      displayMessage: 'Grant user privilege',
      severity: 'INFO',
      actor: person(admin),
      origin: userOrigin(random, dir, admin),
      outcome: { result: 'SUCCESS', reason: null },
      target: [userTarget(user)],
      tx: { type: 'WEB', id: tx, detail: {} },
      debugData: { privilegeGranted: role, requestId: tx, requestUri: `/api/internal/administrators/${user.id}`, url: `/api/internal/administrators/${user.id}`, threatSuspected: 'false' },
      session: sessionId(random),
    }),
  ];
}

function apiTokenLifecycle(random: Random, dir: OrgDirectory): Emitted[] {
  const admin = random.pick(dir.admins);
  const create = random.chance(0.6);
  const tokenId = `00T${random.base62(17)}`;
  const tx = requestId(random);
  return [
    event(random, {
      eventType: create ? 'system.api_token.create' : 'system.api_token.revoke',
      legacyEventType: create ? 'api.token.create' : 'api.token.revoke',
      displayMessage: create ? 'Create API token' : 'Revoke API token',
      severity: 'INFO',
      actor: person(admin),
      origin: userOrigin(random, dir, admin),
      outcome: { result: 'SUCCESS', reason: null },
      target: [{ id: tokenId, type: 'Token', alternateId: 'unknown', displayName: random.pick(['siem-export', 'terraform', 'scim-bridge', 'helpdesk-bot']), detailEntry: null }],
      tx: { type: 'WEB', id: tx, detail: {} },
      debugData: { requestId: tx, requestUri: create ? '/api/internal/tokens' : `/api/internal/tokens/${tokenId}`, url: create ? '/api/internal/tokens?' : `/api/internal/tokens/${tokenId}?`, dtHash: random.hex(64) },
      session: sessionId(random),
    }),
  ];
}

/** Failed passwords from an anonymizing network, ending in a lock-out. */
function bruteForce(random: Random, dir: OrgDirectory): Emitted[] {
  const user = random.pick(dir.users);
  const place = random.pick(SUSPICIOUS_PLACES);
  const origin: Origin = { place, ip: ipIn(random, place), agent: random.pick(dir.apiClients), zone: 'null', clientId: null, job: false };
  const session = sessionId(random);
  const events: Emitted[] = [];
  const attempts = random.int(2, 4);
  for (let i = 0; i < attempts; i++) {
    events.push(sessionStart(random, user, origin, session, requestId(random), { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' }));
  }
  const tx = requestId(random);
  events.push(
    event(random, {
      eventType: 'user.account.lock',
      legacyEventType: 'core.user_auth.account_locked',
      displayMessage: 'Max sign in attempts exceeded',
      severity: 'WARN',
      actor: person(user),
      origin,
      outcome: { result: 'FAILURE', reason: 'LOCKED_OUT' },
      target: [userTarget(user)],
      tx: { type: 'WEB', id: tx, detail: {} },
      debugData: { requestUri: '/idp/idx/identify', url: '/idp/idx/identify?', ...loginDebug(random, tx) },
      session,
    }),
  );
  return events;
}

// ---------------------------------------------------------------------------------------------
// Single events used by several scenarios.

function sessionStart(random: Random, user: Person, origin: Origin, session: string, tx: string, outcome: { result: string; reason: string | null }): Emitted {
  const success = outcome.result === 'SUCCESS';
  return event(random, {
    eventType: 'user.session.start',
    legacyEventType: success ? 'core.user_auth.login_success' : 'core.user_auth.login_failed',
    displayMessage: 'User login to Okta',
    severity: success ? 'INFO' : 'WARN',
    actor: person(user),
    origin,
    outcome,
    target: [],
    tx: { type: 'WEB', id: tx, detail: {} },
    debugData: { requestUri: '/idp/idx/identify', url: '/idp/idx/identify?', ...loginDebug(random, tx) },
    session,
    authn: { authenticationProvider: 'OKTA_AUTHENTICATION_PROVIDER', credentialProvider: 'OKTA_CREDENTIAL_PROVIDER', credentialType: 'PASSWORD' },
  });
}

function mfa(random: Random, user: Person, origin: Origin, session: string, tx: string, failed: boolean): Emitted {
  const factor = random.pick(FACTORS);
  return event(random, {
    eventType: 'user.authentication.auth_via_mfa',
    legacyEventType: failed ? 'core.user.factor.attempt_fail' : 'core.user.factor.attempt_success',
    displayMessage: 'Authentication of user via MFA',
    severity: failed ? 'WARN' : 'INFO',
    actor: person(user),
    origin,
    outcome: failed ? { result: 'FAILURE', reason: random.pick(['INVALID_CREDENTIALS', 'PASSCODE_REPLAYED', 'USER_REJECTED_OKTA_VERIFY_PUSH']) } : { result: 'SUCCESS', reason: null },
    target: [userTarget(user)],
    tx: { type: 'WEB', id: tx, detail: {} },
    debugData: { factor: factor.factor, requestUri: '/idp/idx/challenge/answer', url: '/idp/idx/challenge/answer?', ...loginDebug(random, tx) },
    session,
    authn: { authenticationProvider: 'FACTOR_PROVIDER', credentialProvider: factor.provider, credentialType: factor.type },
  });
}

function sso(random: Random, user: Person, app: App, origin: Origin, session: string): Emitted {
  const tx = requestId(random);
  return event(random, {
    eventType: 'user.authentication.sso',
    legacyEventType: 'app.auth.sso',
    displayMessage: 'User single sign on to app',
    severity: 'INFO',
    actor: person(user),
    origin,
    outcome: { result: 'SUCCESS', reason: null },
    target: [
      { id: app.id, type: 'AppInstance', alternateId: app.label, displayName: app.label, detailEntry: { signOnModeType: app.signOnMode } },
      { id: `0ua${user.id.slice(3)}`, type: 'AppUser', alternateId: user.login, displayName: user.displayName, detailEntry: null },
    ],
    tx: { type: 'WEB', id: tx, detail: {} },
    debugData: { initiationType: random.chance(0.7) ? 'IDP_INITIATED' : 'SP_INITIATED', requestId: tx, requestUri: `/app/${app.name}/${app.id}/sso/saml`, url: `/app/${app.name}/${app.id}/sso/saml?`, signOnMode: app.signOnMode },
    session,
  });
}

function appMembership(random: Random, actor: OktaActor, user: Person, app: App, origin: Origin): Emitted {
  const tx = requestId(random);
  const job = origin.job;
  return event(random, {
    eventType: 'application.user_membership.add',
    legacyEventType: 'app.generic.provision.assign_user_to_app',
    displayMessage: 'Add user to application membership',
    severity: 'INFO',
    actor,
    origin,
    outcome: { result: 'SUCCESS', reason: null },
    target: [
      { id: `0ua${user.id.slice(3)}`, type: 'AppUser', alternateId: user.login, displayName: user.displayName, detailEntry: null },
      { id: app.id, type: 'AppInstance', alternateId: app.label, displayName: app.label, detailEntry: null },
      userTarget(user),
    ],
    tx: job ? { type: 'JOB', id: `jbr${random.base62(17)}`, detail: {} } : { type: 'WEB', id: tx, detail: {} },
    debugData: job ? {} : { requestId: tx, requestUri: `/api/v1/apps/${app.id}/users`, url: `/api/v1/apps/${app.id}/users?` },
    session: job ? 'unknown' : sessionId(random),
  });
}

// ---------------------------------------------------------------------------------------------
// Building blocks.

interface EventSpec {
  eventType: string;
  legacyEventType: string | null;
  displayMessage: string;
  severity: OktaEvent['severity'];
  actor: OktaActor;
  origin: Origin;
  outcome: { result: string; reason: string | null };
  target: OktaTarget[];
  tx: OktaEvent['transaction'];
  debugData: Record<string, unknown>;
  session: string;
  authn?: { authenticationProvider: string; credentialProvider: string; credentialType: string };
}

/**
 * One LogEvent. Every nested object is new: events handed to callers share nothing, so
 * mutating one (to add a quirk) cannot change another. The origin's parts come first (actor,
 * client, request, securityContext), then the event's own; `published` is set by the generator.
 */
function event(random: Random, spec: EventSpec): Emitted {
  const { origin } = spec;
  const { place } = origin;
  return {
    origin,
    event: {
      actor: { ...spec.actor },
      client: client(origin),
      request: { ipChain: ipChain(origin) },
      securityContext: origin.job
        ? { asNumber: null, asOrg: null, isp: null, domain: null, isProxy: null }
        : { asNumber: place.asNumber, asOrg: place.asOrg, isp: place.isp, domain: place.domain, isProxy: SUSPICIOUS_PLACES.includes(place) },
      authenticationContext: {
        authenticationProvider: spec.authn?.authenticationProvider ?? null,
        credentialProvider: spec.authn?.credentialProvider ?? null,
        credentialType: spec.authn?.credentialType ?? null,
        issuer: null,
        interface: null,
        authenticationStep: 0,
        externalSessionId: spec.session,
      },
      displayMessage: spec.displayMessage,
      eventType: spec.eventType,
      outcome: spec.outcome,
      published: '',
      severity: spec.severity,
      debugContext: { debugData: spec.debugData },
      legacyEventType: spec.legacyEventType,
      transaction: spec.tx,
      uuid: random.uuid(),
      version: '0',
      target: spec.target,
    },
  };
}

function client(origin: Origin): OktaClient {
  const { agent, place } = origin;
  return {
    userAgent: { rawUserAgent: agent.rawUserAgent, os: agent.os, browser: agent.browser },
    zone: origin.zone,
    device: agent.device,
    id: origin.clientId,
    ipAddress: origin.ip,
    geographicalContext: geo(place),
  };
}

function ipChain(origin: Origin): OktaIpAddress[] {
  return [{ ip: origin.ip, geographicalContext: geo(origin.place), version: origin.ip.includes(':') ? 'V6' : 'V4', source: null }];
}

function geo(place: Place): OktaClient['geographicalContext'] {
  const g = place.geo;
  return { city: g.city, state: g.state, country: g.country, postalCode: g.postalCode, geolocation: { lat: g.geolocation.lat, lon: g.geolocation.lon } };
}

/** Mostly from home, sometimes travelling; a few percent over IPv6. */
function userOrigin(random: Random, dir: OrgDirectory, user: Person): Origin {
  const place = random.chance(0.9) ? user.home : random.pick(dir.places);
  const agent = random.chance(0.85) ? user.browser : random.pick(dir.browsers);
  return { place, ip: ipIn(random, place), agent, zone: random.chance(0.2) ? 'Corporate VPN' : 'null', clientId: null, job: false };
}

/** Work Okta does on its own (group push, provisioning): Okta's own data centre. */
function jobOrigin(random: Random): Origin {
  const place = JOB_PLACE;
  return { place, ip: ipIn(random, place), agent: JOB_AGENT, zone: 'null', clientId: null, job: true };
}

function ipIn(random: Random, place: Place): string {
  if (random.chance(0.03)) {
    return `2001:db8:${random.int(1, 0xffff).toString(16)}:${random.int(1, 0xffff).toString(16)}::${random.int(1, 0xffff).toString(16)}`;
  }
  const parts = place.ipPrefix.split('.').length;
  let ip = place.ipPrefix;
  for (let i = parts; i < 4; i++) ip += `.${random.int(1, 254)}`;
  return ip;
}

function person(p: Person): OktaActor {
  return { id: p.id, type: 'User', alternateId: p.login, displayName: p.displayName, detailEntry: null };
}

function userTarget(p: Person): OktaTarget {
  return { id: p.id, type: 'User', alternateId: p.login, displayName: p.displayName, detailEntry: null };
}

function sessionId(random: Random): string {
  return `102${random.base62(22)}`;
}

/** Okta request ids look like `XkcAsWb8WjwDP76xh@1v8wAABp0`: 27 characters ending in AAB.. */
function requestId(random: Random): string {
  return `${random.base62(19)}AAB${random.base62(2)}`;
}

function loginDebug(random: Random, tx: string): Record<string, unknown> {
  return {
    requestId: tx,
    dtHash: random.hex(64),
    deviceFingerprint: random.hex(32),
    threatSuspected: 'false',
    behaviors: '{New Geo-Location=NEGATIVE, New Device=NEGATIVE, New IP=NEGATIVE, New State=NEGATIVE, New Country=NEGATIVE, Velocity=NEGATIVE, New City=NEGATIVE}',
    risk: '{level=LOW}',
  };
}

const FACTORS: readonly { factor: string; provider: string; type: string }[] = [
  { factor: 'OKTA_VERIFY_PUSH', provider: 'OKTA_CREDENTIAL_PROVIDER', type: 'OTP' },
  { factor: 'OKTA_VERIFY_PUSH', provider: 'OKTA_CREDENTIAL_PROVIDER', type: 'OTP' },
  { factor: 'FIDO_WEBAUTHN', provider: 'OKTA_CREDENTIAL_PROVIDER', type: 'ASSERTION' },
  { factor: 'GOOGLE_OTP', provider: 'GOOGLE', type: 'OTP' },
  { factor: 'SMS_FACTOR', provider: 'OKTA_CREDENTIAL_PROVIDER', type: 'SMS' },
  { factor: 'YUBIKEY_OTP', provider: 'YUBIKEY', type: 'OTP' },
];

const JOB_PLACE: Place = {
  geo: { city: 'Ashburn', state: 'Virginia', country: 'United States', postalCode: '20149', geolocation: { lat: 39.0437, lon: -77.4875 } },
  ipPrefix: '52.4',
  asNumber: 14618,
  asOrg: 'amazon data services nova',
  isp: 'amazon.com inc.',
  domain: 'amazonaws.com',
};
const JOB_AGENT: UserAgent = { rawUserAgent: 'UNKNOWN-DOWNLOAD', os: 'Unknown', browser: 'UNKNOWN', device: 'Unknown' };
