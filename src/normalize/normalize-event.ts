import { ForwarderError } from '../errors.js';
import { classify, isOAuthTokenEvent, type Classification } from './classification.js';
import { eventId } from './event-id.js';
import { ConsumingReader, setOwn, type FieldPath } from './field-reader.js';
import { jsonText } from './json-text.js';
import { OCSF_VERSION, PRODUCT } from './ocsf-version.js';
import { parsePublished, type PublishedLabel } from './published-time.js';
import {
  AUTH_PROTOCOL_BY_SIGN_ON_MODE,
  DEVICE_TYPE_BY_OKTA,
  FACTOR_TYPE_BY_OKTA,
  OAUTH2_PROTOCOL,
  SEVERITY_BY_OKTA,
  STATUS_BY_OKTA,
  UNKNOWN,
  USER_TYPE_BY_OKTA,
  lookupEnum,
  osType,
  type EnumValue,
} from './value-tables.js';
import { boundUnmapped, type UnmappedRepair } from './unmapped-limits.js';
import { clipped, isEmailAddress, isGeoPoint, isIpAddress, isNoData, isPlainObject } from './values.js';

export interface NormalizeOptions {
  /** The Okta org the event came from (`metadata.tenant_uid`). */
  org: string;
  /** Add `raw_data`: the original event as JSON text. Default false. */
  keepRaw?: boolean;
}

/** One OCSF activity document, ready for Elasticsearch. */
export type ActivityDocument = Record<string, unknown>;

/**
 * `metadata.labels` values: how the document differs from the event as Okta wrote it. Each repair
 * keeps the original value in the document (docs/analysts.md, "Repairs").
 */
export type DocumentLabel = PublishedLabel | 'uuid_unusable' | UnmappedRepair;

export interface NormalizedEvent {
  document: ActivityDocument;
  /** The document's `_id` (also its `metadata.uid`): see eventId. */
  id: string;
  /** The Okta fields reproduced in the document (everything else is under `unmapped`). */
  consumedPaths: readonly FieldPath[];
}

/**
 * Pure, and bounded on any input: time linear in the event's size, any nesting depth. Throws
 * ForwarderError('OF_NORMALIZE') only when the event cannot be placed in time (see
 * published-time.ts). The sink and the `normalize` command go through prepareActivity, which adds
 * the index and turns that error into a rejection.
 */
export function normalizeEvent(event: Record<string, unknown>, options: NormalizeOptions): ActivityDocument {
  return normalizeEventTraced(event, options).document;
}

/** normalizeEvent, also returning which Okta fields were consumed (for the no-field-disappears tests). */
export function normalizeEventTraced(event: Record<string, unknown>, options: NormalizeOptions): NormalizedEvent {
  if (!isPlainObject(event)) throw new ForwarderError('OF_NORMALIZE', 'normalizing an Okta event: the event is not a JSON object');
  const reader = new ConsumingReader(event);
  const published = parsePublished(reader.get(['published']));
  if (!published.ok) {
    const uuid = reader.get(['uuid']);
    throw new ForwarderError('OF_NORMALIZE', `normalizing Okta event ${typeof uuid === 'string' ? clipped(uuid) : '(no uuid)'}: ${published.reason}`);
  }
  const originalTime = reader.takeString(['published']);
  const labels: DocumentLabel[] = [...published.labels];
  const identity = eventId(event);
  // An unusable uuid is not consumed: it stays under `unmapped.uuid`, where Okta wrote it.
  if (identity.fromUuid) reader.consume(['uuid']);
  else labels.push('uuid_unusable');

  const eventType = reader.takeString(['eventType']);
  const classification = classify(eventType);
  const { eventClass, activityId, activityName } = classification;

  const oktaSeverity = reader.takeString(['severity']);
  const severity = lookupEnum(SEVERITY_BY_OKTA, oktaSeverity);
  const oktaResult = reader.takeString(['outcome', 'result']);
  const status = lookupEnum(STATUS_BY_OKTA, oktaResult);

  const actorUser = userFrom(reader, ['actor']);
  const sessionUid = reader.takeString(['authenticationContext', 'externalSessionId'], (id) => id !== 'unknown');
  const correlationUid = sessionUid ?? reader.takeString(['transaction', 'id']);

  const document: ActivityDocument = {
    '@timestamp': new Date(published.epochMs).toISOString(),
    time: published.epochMs,
    category_uid: eventClass.categoryUid,
    category_name: eventClass.categoryName,
    class_uid: eventClass.uid,
    class_name: eventClass.name,
    activity_id: activityId,
    activity_name: activityName,
    type_uid: eventClass.uid * 100 + activityId,
    type_name: `${eventClass.name}: ${activityName}`,
    severity_id: severity.id,
    severity: severity.caption,
    status_id: status.id,
    status: status.caption,
  };
  assign(document, 'status_code', oktaResult);
  assign(document, 'status_detail', reader.takeString(['outcome', 'reason']));
  assign(document, 'message', reader.takeString(['displayMessage']));
  document.metadata = compact({
    uid: identity.id,
    event_code: eventType,
    product: { ...PRODUCT },
    version: OCSF_VERSION,
    log_version: reader.takeText(['version']),
    log_level: oktaSeverity,
    original_time: originalTime,
    correlation_uid: correlationUid,
    tenant_uid: options.org,
  });
  assign(
    document,
    'actor',
    compact({
      user: actorUser,
      session: compact({ uid: sessionUid, issuer: reader.takeString(['authenticationContext', 'issuer', 'id']) }),
      app_uid: reader.takeText(['client', 'id']),
    }),
  );
  assign(document, 'src_endpoint', sourceEndpoint(reader));
  assign(
    document,
    'http_request',
    compact({
      user_agent: reader.takeString(['client', 'userAgent', 'rawUserAgent']),
      uid: reader.takeString(['debugContext', 'debugData', 'requestId']),
      url: compact({ path: reader.takeString(['debugContext', 'debugData', 'requestUri']) }),
    }),
  );
  assign(document, 'device', device(reader));
  Object.assign(document, classSpecificFields(reader, classification, eventType, actorUser));

  let remainder = reader.remainder();
  // "null" is no data anywhere else, but as a uuid it is what the event claimed: kept.
  const uuid = event.uuid;
  if (!identity.fromUuid && typeof uuid === 'string' && !(remainder && Object.hasOwn(remainder, 'uuid'))) {
    remainder ??= {};
    setOwn(remainder, 'uuid', uuid);
  }
  if (remainder !== undefined) {
    const bounded = boundUnmapped(remainder);
    document.unmapped = bounded.value;
    labels.push(...bounded.repairs);
  }
  if (labels.length > 0) (document.metadata as Fields).labels = labels;
  if (options.keepRaw) document.raw_data = rawJsonText(event, labels);
  return { document, id: identity.id, consumedPaths: reader.consumedPaths() };
}

/**
 * The event as JSON text. JSON.stringify is faster, but it writes Infinity as null (the remainder
 * holds every non-finite number, so the labels tell) and overflows the stack on a very deep event
 * (a RangeError, caught): jsonText then.
 */
function rawJsonText(event: Record<string, unknown>, labels: readonly DocumentLabel[]): string {
  if (labels.includes('unmapped_non_finite_numbers')) return jsonText(event);
  try {
    return JSON.stringify(event);
  } catch (error) {
    if (error instanceof RangeError) return jsonText(event);
    throw error;
  }
}

type Fields = Record<string, unknown>;

/** Sets `key` only when the value carries data: the document never holds null or empty objects. */
function assign(target: Fields, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

/** The object without its undefined values; undefined when nothing is left. */
function compact(fields: Fields): Fields | undefined {
  let out: Fields | undefined;
  // Hot path: a for-in over our own literal objects, no entries arrays.
  for (const key in fields) {
    const value = fields[key];
    if (value !== undefined) (out ??= {})[key] = value;
  }
  return out;
}

function enumFields(idKey: string, nameKey: string, value: EnumValue): Fields {
  return { [idKey]: value.id, [nameKey]: value.caption };
}

/**
 * An Okta actor or target of type User (or any principal) -> OCSF user. `name` is the login
 * (`alternateId`), `full_name` the display name, `email_addr` the login when it is an email;
 * `type` keeps Okta's type verbatim, `type_id` normalizes it (User 1, SystemPrincipal 3 System, else 99).
 */
function userFrom(reader: ConsumingReader, at: FieldPath): Fields | undefined {
  if (!isPlainObject(reader.get(at))) return undefined;
  const alternateId = reader.takeString([...at, 'alternateId']);
  const oktaType = reader.takeString([...at, 'type']);
  return compact({
    uid: reader.takeString([...at, 'id']),
    name: alternateId,
    full_name: reader.takeString([...at, 'displayName']),
    email_addr: alternateId !== undefined && isEmailAddress(alternateId) ? alternateId : undefined,
    type: oktaType,
    type_id: oktaType === undefined ? undefined : lookupEnum(USER_TYPE_BY_OKTA, oktaType).id,
  });
}

/** Okta target -> OCSF group / resource_details / service / managed_entity: uid, name (display name), type. */
function entityFrom(reader: ConsumingReader, at: FieldPath, withType = true): Fields | undefined {
  return compact({
    uid: reader.takeString([...at, 'id']),
    name: reader.takeString([...at, 'displayName']),
    type: withType ? reader.takeString([...at, 'type']) : undefined,
  });
}

/**
 * src_endpoint: `ip` from client.ipAddress (or, without one, the first hop of request.ipChain),
 * location from client.geographicalContext, `intermediate_ips` from the rest of the chain (Okta
 * orders it client, proxy1, proxy2, …). Invalid IPs and (0, 0) or non-numeric coordinates stay in
 * `unmapped`. OCSF wants ISO codes in `country`/`region`; Okta gives names, kept as they are.
 */
function sourceEndpoint(reader: ConsumingReader): Fields | undefined {
  const chain = reader.array(['request', 'ipChain']);
  let ip = reader.takeString(['client', 'ipAddress'], isIpAddress);
  if (ip === undefined && chain.length > 0) ip = reader.takeString(['request', 'ipChain', 0, 'ip'], isIpAddress);
  else if (ip !== undefined && reader.get(['request', 'ipChain', 0, 'ip']) === ip) reader.consume(['request', 'ipChain', 0, 'ip']);

  const geo: FieldPath = ['client', 'geographicalContext'];
  const location = compact({
    city: reader.takeString([...geo, 'city']),
    region: reader.takeString([...geo, 'state']),
    country: reader.takeString([...geo, 'country']),
    postal_code: reader.takeString([...geo, 'postalCode']),
    ...coordinates(reader, [...geo, 'geolocation']),
  });
  // The first hop repeats the client's location: its copies of consumed values are consumed too.
  if (chain.length > 0) consumeDuplicates(reader, ['request', 'ipChain', 0, 'geographicalContext'], geo);

  const intermediateIps: string[] = [];
  for (let hop = 1; hop < chain.length; hop += 1) {
    const hopIp = reader.takeString(['request', 'ipChain', hop, 'ip'], isIpAddress);
    if (hopIp !== undefined) intermediateIps.push(hopIp);
  }
  return compact({
    ip,
    location,
    zone: reader.takeString(['client', 'zone']),
    intermediate_ips: intermediateIps.length > 0 ? intermediateIps : undefined,
  });
}

function coordinates(reader: ConsumingReader, at: FieldPath): Fields {
  const lat = reader.get([...at, 'lat']);
  const lon = reader.get([...at, 'lon']);
  if (typeof lat !== 'number' || typeof lon !== 'number' || !isGeoPoint(lat, lon)) return {};
  reader.consume([...at, 'lat']);
  reader.consume([...at, 'lon']);
  // OCSF coordinates are [longitude, latitude] (GeoJSON order), which Elasticsearch's geo_point reads as such.
  return { lat, long: lon, coordinates: [lon, lat] };
}

/** Consumes each leaf under `path` equal to the consumed leaf at the same place under `of`. */
function consumeDuplicates(reader: ConsumingReader, path: FieldPath, of: FieldPath): void {
  // Walks what was consumed under `of` (a few fixed leaves), never the event's own, untrusted, shape.
  const consumedUnderOf = reader.consumedPaths().filter((consumed) => consumed.length > of.length && of.every((step, i) => consumed[i] === step));
  for (const consumed of consumedUnderOf) {
    const relative = consumed.slice(of.length);
    const value = reader.get(consumed);
    if (!isNoData(value) && reader.get([...path, ...relative]) === value) reader.consume([...path, ...relative]);
  }
}

/**
 * device: the Okta `client.device` kind and the OS from the user agent; the top-level Okta `device`
 * object (Okta Verify / device assurance) adds uid, name, management state and the precise OS
 * platform and version, which win over the user agent's OS name.
 */
function device(reader: ConsumingReader): Fields | undefined {
  const kind = reader.takeString(['client', 'device']);
  const osName = reader.takeString(['device', 'os_platform']) ?? reader.takeString(['client', 'userAgent', 'os']);
  const os = osName === undefined ? undefined : compact({ name: osName, ...enumFields('type_id', 'type', osType(osName)), version: reader.takeString(['device', 'os_version']) });
  const fields = compact({
    uid: reader.takeString(['device', 'id']),
    name: reader.takeString(['device', 'name']),
    type: kind,
    os,
    is_managed: reader.takeBoolean(['device', 'managed']),
  });
  if (fields === undefined) return undefined;
  return { ...fields, type_id: (kind === undefined ? UNKNOWN : lookupEnum(DEVICE_TYPE_BY_OKTA, kind)).id };
}

interface IndexedTarget {
  readonly index: number;
  readonly type: string | undefined;
}

function targets(reader: ConsumingReader): IndexedTarget[] {
  return reader
    .array(['target'])
    .map((target, index) => ({ index, type: isPlainObject(target) && typeof target.type === 'string' ? target.type : undefined }))
    .filter((target) => isPlainObject(reader.get(['target', target.index])));
}

const targetPath = (target: IndexedTarget): FieldPath => ['target', target.index];

/**
 * The fields each class gives to Okta's targets and authentication context. Targets a class has no
 * field for stay in `unmapped` (Base Event has none: all its targets are there).
 */
function classSpecificFields(reader: ConsumingReader, classification: Classification, eventType: string | undefined, actorUser: Fields | undefined): Fields {
  const all = targets(reader);
  const firstOfType = (type: string): IndexedTarget | undefined => all.find((target) => target.type === type);
  const userTarget = firstOfType('User');
  const targetUser = (): Fields | undefined => (userTarget ? userFrom(reader, targetPath(userTarget)) : undefined);

  switch (classification.classKey) {
    case 'authentication': {
      const app = firstOfType('AppInstance');
      return compactFields({
        // The subject that authenticates: the User target when Okta names one, else the actor.
        user: targetUser() ?? actorUser,
        service: app ? entityFrom(reader, targetPath(app), false) : undefined,
        ...authenticationExtras(reader, eventType),
        auth_factors: authFactors(reader),
      });
    }
    case 'accountChange': {
      const mfaActivity = classification.activityId === 10 || classification.activityId === 11;
      return compactFields({ user: targetUser(), auth_factors: mfaActivity ? authFactors(reader) : undefined });
    }
    case 'groupManagement': {
      const group = firstOfType('UserGroup');
      return compactFields({ user: targetUser(), group: group ? entityFrom(reader, targetPath(group)) : undefined });
    }
    case 'userAccess': {
      const privilege = reader.takeString(['debugContext', 'debugData', 'privilegeGranted']);
      const resources = all.filter((target) => target !== userTarget).map((target) => entityFrom(reader, targetPath(target)));
      return compactFields({
        user: targetUser(),
        privileges: privilege === undefined ? undefined : [privilege],
        resources: nonEmpty(resources),
      });
    }
    case 'entityManagement': {
      const first = all[0];
      return compactFields({ entity: first ? entityFrom(reader, targetPath(first)) : undefined });
    }
    case 'apiActivity':
      return compactFields({
        api: compact({ operation: eventType }),
        resources: nonEmpty(all.map((target) => entityFrom(reader, targetPath(target)))),
      });
    case 'base':
      return {};
  }
}

function compactFields(fields: Fields): Fields {
  return compact(fields) ?? {};
}

function nonEmpty(items: (Fields | undefined)[]): Fields[] | undefined {
  const present = items.filter((item): item is Fields => item !== undefined);
  return present.length > 0 ? present : undefined;
}

/**
 * is_mfa: true for MFA authentications (`user.authentication.auth_via_mfa`, or a FACTOR_PROVIDER
 * authentication provider), absent otherwise (Okta does not say "not MFA").
 * auth_protocol: OAUTH 2.0 for OAuth token events, else from debugData.signOnMode (SAML, OpenID,
 * or Other with Okta's mode). logon_type: Okta's `authenticationContext.interface` as Other (99).
 */
function authenticationExtras(reader: ConsumingReader, eventType: string | undefined): Fields {
  const provider = reader.get(['authenticationContext', 'authenticationProvider']);
  const isMfa = eventType === 'user.authentication.auth_via_mfa' || provider === 'FACTOR_PROVIDER' ? true : undefined;
  let protocol: EnumValue | undefined;
  if (eventType !== undefined && isOAuthTokenEvent(eventType)) protocol = OAUTH2_PROTOCOL;
  else {
    const mode = reader.get(['debugContext', 'debugData', 'signOnMode']);
    if (typeof mode === 'string' && !isNoData(mode)) {
      protocol = lookupEnum(AUTH_PROTOCOL_BY_SIGN_ON_MODE, mode);
      // Other keeps the mode verbatim, so it is reproduced; SAML_2_0 -> "SAML" is not: it stays in unmapped.
      if (protocol.id === 99) reader.consume(['debugContext', 'debugData', 'signOnMode']);
    }
  }
  const logonInterface = reader.takeString(['authenticationContext', 'interface']);
  return {
    is_mfa: isMfa,
    ...(protocol ? enumFields('auth_protocol_id', 'auth_protocol', protocol) : {}),
    ...(logonInterface === undefined ? {} : { logon_type_id: 99, logon_type: logonInterface }),
  };
}

/** The factor used, from authenticationContext.credentialType and credentialProvider. */
function authFactors(reader: ConsumingReader): Fields[] | undefined {
  const credentialType = reader.takeString(['authenticationContext', 'credentialType']);
  const provider = reader.takeString(['authenticationContext', 'credentialProvider']);
  if (credentialType === undefined && provider === undefined) return undefined;
  const factor = lookupEnum(FACTOR_TYPE_BY_OKTA, credentialType);
  return [compact({ factor_type_id: factor.id, factor_type: factor.caption, provider }) ?? {}];
}
