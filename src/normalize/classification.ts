/**
 * Classification: Okta `eventType` -> OCSF event class and activity, as data.
 *
 * Ids checked against the OCSF schema repository (`ocsf/ocsf-schema`), files:
 *   - categories.json                          iam = 3, application = 6
 *   - events/base_event.json                   Base Event, class 0 (category 0, "Uncategorized")
 *   - events/iam/iam.json                      IAM category base (actor, src_endpoint, http_request)
 *   - events/iam/account_change.json           uid 1 -> 3001; Create 1, Enable 2, Password Change 3,
 *                                              Password Reset 4, Disable 5, Delete 6, Lock 9,
 *                                              MFA Factor Enable 10, MFA Factor Disable 11, Unlock 12
 *   - events/iam/authentication.json           uid 2 -> 3002; Logon 1, Logoff 2
 *   - events/iam/entity_management.json        uid 4 -> 3004; Create 1, Update 3, Delete 4,
 *                                              Activate 10, Deactivate 11
 *   - events/iam/user_access.json              uid 5 -> 3005; Assign Privileges 1, Revoke Privileges 2
 *   - events/iam/group_management.json         uid 6 -> 3006; Assign Privileges 1, Revoke Privileges 2,
 *                                              Add User 3, Remove User 4, Delete 5, Create 6
 *   - events/application/api_activity.json     uid 3 -> 6003; Create 1, Read 2, Update 3, Delete 4
 *   - dictionary.json                          activity_id 0 Unknown / 99 Other in every class
 * class_uid = category_uid * 1000 + class uid; type_uid = class_uid * 100 + activity_id.
 */

export interface EventClass {
  readonly uid: number;
  readonly name: string;
  readonly categoryUid: number;
  readonly categoryName: string;
  /** The activities this class defines that we use, by id (99 Other is always available). */
  readonly activities: Readonly<Record<number, string>>;
}

export const OTHER_ACTIVITY_ID = 99;

const IAM = { categoryUid: 3, categoryName: 'Identity & Access Management' } as const;
const APPLICATION = { categoryUid: 6, categoryName: 'Application Activity' } as const;

export const EVENT_CLASSES = {
  base: { uid: 0, name: 'Base Event', categoryUid: 0, categoryName: 'Uncategorized', activities: {} },
  accountChange: {
    uid: 3001,
    name: 'Account Change',
    ...IAM,
    activities: { 1: 'Create', 2: 'Enable', 3: 'Password Change', 4: 'Password Reset', 5: 'Disable', 6: 'Delete', 9: 'Lock', 10: 'MFA Factor Enable', 11: 'MFA Factor Disable', 12: 'Unlock' },
  },
  authentication: { uid: 3002, name: 'Authentication', ...IAM, activities: { 1: 'Logon', 2: 'Logoff' } },
  entityManagement: {
    uid: 3004,
    name: 'Entity Management',
    ...IAM,
    activities: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 10: 'Activate', 11: 'Deactivate' },
  },
  userAccess: { uid: 3005, name: 'User Access Management', ...IAM, activities: { 1: 'Assign Privileges', 2: 'Revoke Privileges' } },
  groupManagement: {
    uid: 3006,
    name: 'Group Management',
    ...IAM,
    activities: { 1: 'Assign Privileges', 2: 'Revoke Privileges', 3: 'Add User', 4: 'Remove User', 5: 'Delete', 6: 'Create' },
  },
  apiActivity: { uid: 6003, name: 'API Activity', ...APPLICATION, activities: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete' } },
} as const satisfies Record<string, EventClass>;

export type EventClassKey = keyof typeof EVENT_CLASSES;

/** eventType -> [class, activity_id]. Exact names from Okta's event type catalog. */
const EXACT_EVENT_TYPES: Readonly<Record<string, readonly [EventClassKey, number]>> = {
  // Authentication (3002)
  'user.session.start': ['authentication', 1],
  'user.authentication.sso': ['authentication', 1],
  'user.authentication.auth_via_mfa': ['authentication', 1],
  'user.authentication.auth_via_IDP': ['authentication', 1],
  'user.authentication.auth_via_social': ['authentication', 1],
  'user.authentication.auth_via_radius': ['authentication', 1],
  // A step-up identity check inside a flow, not a new session.
  'user.authentication.verify': ['authentication', OTHER_ACTIVITY_ID],
  // The sign-on policy decision of a logon attempt (ALLOW / DENY / CHALLENGE): part of the logon flow.
  'policy.evaluate_sign_on': ['authentication', OTHER_ACTIVITY_ID],
  'user.session.end': ['authentication', 2],
  // Account Change (3001)
  'user.lifecycle.create': ['accountChange', 1],
  'user.lifecycle.activate': ['accountChange', 2],
  'user.lifecycle.reactivate': ['accountChange', 2],
  'user.lifecycle.unsuspend': ['accountChange', 2],
  'user.account.update_password': ['accountChange', 3],
  'user.account.reset_password': ['accountChange', 4],
  'user.lifecycle.suspend': ['accountChange', 5],
  'user.lifecycle.deactivate': ['accountChange', 5],
  'user.lifecycle.delete': ['accountChange', 6],
  'user.lifecycle.delete.initiated': ['accountChange', 6],
  'user.lifecycle.delete.completed': ['accountChange', 6],
  'user.account.lock': ['accountChange', 9],
  'user.account.lock.limit': ['accountChange', 9],
  'user.mfa.factor.activate': ['accountChange', 10],
  'user.mfa.factor.deactivate': ['accountChange', 11],
  'user.mfa.factor.reset_all': ['accountChange', 11],
  'user.account.unlock': ['accountChange', 12],
  'user.account.unlock_by_admin': ['accountChange', 12],
  'user.account.update_profile': ['accountChange', OTHER_ACTIVITY_ID],
  // Group Management (3006)
  'group.privilege.grant': ['groupManagement', 1],
  'group.privilege.revoke': ['groupManagement', 2],
  'group.user_membership.add': ['groupManagement', 3],
  'group.user_membership.remove': ['groupManagement', 4],
  'group.lifecycle.delete': ['groupManagement', 5],
  'group.lifecycle.create': ['groupManagement', 6],
  // User Access Management (3005)
  'application.user_membership.add': ['userAccess', 1],
  'application.user_membership.remove': ['userAccess', 2],
  'user.account.privilege.grant': ['userAccess', 1],
  'user.account.privilege.revoke': ['userAccess', 2],
  // API Activity (6003)
  'system.api_token.create': ['apiActivity', 1],
  'system.api_token.revoke': ['apiActivity', 4],
};

/** Entity Management (3004): `<entity>.<verb>` for each managed entity kind and lifecycle verb. */
const MANAGED_ENTITY_PREFIXES = ['policy.lifecycle', 'policy.rule', 'zone', 'application.lifecycle'] as const;
const LIFECYCLE_VERBS: Readonly<Record<string, number>> = { create: 1, update: 3, delete: 4, activate: 10, deactivate: 11 };

export const CLASSIFICATION_TABLE: Readonly<Record<string, readonly [EventClassKey, number]>> = Object.freeze({
  ...EXACT_EVENT_TYPES,
  ...Object.fromEntries(
    MANAGED_ENTITY_PREFIXES.flatMap((prefix) =>
      Object.entries(LIFECYCLE_VERBS).map(([verb, activity]) => [`${prefix}.${verb}`, ['entityManagement', activity] as const]),
    ),
  ),
});

/**
 * OAuth 2.0 token events (`app.oauth2.as.token.grant.access_token`, `app.oauth2.token.revoke`, …)
 * are many and versioned by Okta: every `app.oauth2.*` type naming a token is an Authentication
 * with activity Other (99) and auth protocol OAUTH 2.0.
 */
export function isOAuthTokenEvent(eventType: string): boolean {
  return eventType.startsWith('app.oauth2.') && eventType.includes('token');
}

export interface Classification {
  readonly eventClass: EventClass;
  readonly classKey: EventClassKey;
  readonly activityId: number;
  readonly activityName: string;
}

/** The class and activity of an eventType; anything not in the table is Base Event / Other, never dropped. */
export function classify(eventType: string | undefined): Classification {
  let entry: readonly [EventClassKey, number] | undefined;
  if (eventType !== undefined) {
    entry = Object.hasOwn(CLASSIFICATION_TABLE, eventType) ? CLASSIFICATION_TABLE[eventType] : undefined;
    if (!entry && isOAuthTokenEvent(eventType)) entry = ['authentication', OTHER_ACTIVITY_ID];
  }
  const [classKey, activityId] = entry ?? (['base', OTHER_ACTIVITY_ID] as const);
  const eventClass: EventClass = EVENT_CLASSES[classKey];
  const activityName = eventClass.activities[activityId] ?? 'Other';
  return { eventClass, classKey, activityId, activityName };
}
