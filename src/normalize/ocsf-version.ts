/**
 * The OCSF schema version the activity documents follow (`metadata.version`). 1.5.0 is the first
 * release where User Access Management carries `resources` (a list; `resource` is deprecated
 * since 1.5.0 in events/iam/user_access.json); everything else used exists since 1.3.0.
 */
export const OCSF_VERSION = '1.5.0';

/** `metadata.product` of every document. */
export const PRODUCT = { name: 'Okta System Log', vendor_name: 'Okta' } as const;
