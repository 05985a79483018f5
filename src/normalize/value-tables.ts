/**
 * Okta enumerations -> OCSF enumerations, as data. Ids checked against `ocsf/ocsf-schema`:
 * dictionary.json (severity_id, status_id, auth_protocol_id), objects/user.json (type_id),
 * objects/os.json (type_id), objects/auth_factor.json (factor_type_id).
 * A value not in a table maps to the enum's Other (99) with the Okta value kept as the caption,
 * as OCSF prescribes for "Other"; an absent value maps to Unknown (0).
 */

export interface EnumValue {
  readonly id: number;
  readonly caption: string;
}

export const UNKNOWN: EnumValue = { id: 0, caption: 'Unknown' };

/** Okta `severity` -> OCSF severity_id (DEBUG/INFO Informational, WARN Medium, ERROR High). */
export const SEVERITY_BY_OKTA: Readonly<Record<string, EnumValue>> = {
  DEBUG: { id: 1, caption: 'Informational' },
  INFO: { id: 1, caption: 'Informational' },
  WARN: { id: 3, caption: 'Medium' },
  ERROR: { id: 4, caption: 'High' },
};

/** Okta `outcome.result` -> OCSF status_id. Every other result (ALLOW, CHALLENGE, SKIPPED, RATE_LIMIT, …) is Other (99). */
export const STATUS_BY_OKTA: Readonly<Record<string, EnumValue>> = {
  SUCCESS: { id: 1, caption: 'Success' },
  FAILURE: { id: 2, caption: 'Failure' },
  DENY: { id: 2, caption: 'Failure' },
};

/** Okta actor/target `type` -> OCSF user.type_id. */
export const USER_TYPE_BY_OKTA: Readonly<Record<string, EnumValue>> = {
  User: { id: 1, caption: 'User' },
  SystemPrincipal: { id: 3, caption: 'System' },
};

/** Okta `client.userAgent.os` / `device.os_platform` (prefix, case-insensitive) -> OCSF os.type_id. */
export const OS_TYPE_BY_PREFIX: ReadonlyArray<readonly [string, EnumValue]> = [
  ['windows', { id: 100, caption: 'Windows' }],
  ['linux', { id: 200, caption: 'Linux' }],
  ['android', { id: 201, caption: 'Android' }],
  ['mac os', { id: 300, caption: 'macOS' }],
  ['macos', { id: 300, caption: 'macOS' }],
  ['osx', { id: 300, caption: 'macOS' }],
  ['ios', { id: 301, caption: 'iOS' }],
  ['ipados', { id: 302, caption: 'iPadOS' }],
];

/** Okta `client.device` -> OCSF device.type_id (objects/device.json: 4 Tablet, 5 Mobile). "Computer" does not say desktop or laptop: Other. */
export const DEVICE_TYPE_BY_OKTA: Readonly<Record<string, EnumValue>> = {
  Unknown: UNKNOWN,
  Mobile: { id: 5, caption: 'Mobile' },
  Tablet: { id: 4, caption: 'Tablet' },
};

/** Okta `authenticationContext.credentialType` -> OCSF auth_factor.factor_type_id. */
export const FACTOR_TYPE_BY_OKTA: Readonly<Record<string, EnumValue>> = {
  SMS: { id: 1, caption: 'SMS' },
  OTP: { id: 7, caption: 'OTP' },
  EMAIL: { id: 8, caption: 'Email' },
  PASSWORD: { id: 11, caption: 'Password' },
};

/** Okta `debugContext.debugData.signOnMode` -> OCSF auth_protocol_id (4 OpenID, 5 SAML, 6 OAUTH 2.0). */
export const AUTH_PROTOCOL_BY_SIGN_ON_MODE: Readonly<Record<string, EnumValue>> = {
  SAML_2_0: { id: 5, caption: 'SAML' },
  SAML_1_1: { id: 5, caption: 'SAML' },
  OPENID_CONNECT: { id: 4, caption: 'OpenID' },
};

export const OAUTH2_PROTOCOL: EnumValue = { id: 6, caption: 'OAUTH 2.0' };

/** Looks `value` up in `table`: absent -> Unknown (0); not in the table -> Other (99) with the value as caption. */
export function lookupEnum(table: Readonly<Record<string, EnumValue>>, value: string | undefined): EnumValue {
  if (value === undefined) return UNKNOWN;
  return (Object.hasOwn(table, value) ? table[value] : undefined) ?? { id: 99, caption: value };
}

export function osType(name: string): EnumValue {
  const lower = name.toLowerCase();
  if (lower === 'unknown') return UNKNOWN;
  for (const [prefix, value] of OS_TYPE_BY_PREFIX) if (lower.startsWith(prefix)) return value;
  return { id: 99, caption: name };
}
