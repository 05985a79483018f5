export { loadConfig, registerConfiguredSecrets, type ForwarderConfig, type LoadedConfig, type LoadOptions, type OrgConfig } from './load.js';
export { readSecret, readTlsFile, SECRET_ENV_PATHS, SECRET_FILE_PATHS } from './secrets.js';
export { redactConfig, SENSITIVE_PATHS } from './redact.js';
export { CONFIG_SCHEMA, ORG_SCHEMA } from './schema.js';
export { configReference } from './reference.js';
