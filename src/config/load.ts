import { accessSync, constants, readFileSync } from 'node:fs';
import { isAbsolute, resolve, dirname } from 'node:path';
import { ConfigError, ForwarderError } from '../errors.js';
import { createConfig, createOrgConfig } from './schema.js';
import { registerConfigSecrets } from './secrets.js';

export interface OrgConfig {
  id: string;
  domain: string;
  auth: {
    method: 'api-token' | 'oauth';
    tokenEnv: string;
    tokenFile: string;
    clientId: string;
    privateKeyFile: string;
    keyId: string;
    dpop: boolean;
  };
  initialLookbackDays: number;
  pollIntervalSeconds: number;
  minPollIntervalSeconds: number;
  rateLimitShare: number;
  allowInsecureHttp: boolean;
}

type SchemaProperties = ReturnType<ReturnType<typeof createConfig>['getProperties']>;

export type ForwarderConfig = Omit<SchemaProperties, 'okta'> & { okta: { orgs: OrgConfig[] } };

export interface LoadedConfig {
  config: ForwarderConfig;
  /** Where the settings came from: a file path, or "defaults and environment". */
  source: string;
  /** Settings that are allowed but probably not what the user wants. */
  warnings: string[];
}

export interface LoadOptions {
  /** Path given with --config; when absent, OKTA_FORWARDER_CONFIG; when absent too, no file. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** Okta keeps 90 days of System Log; asking for more returns nothing older. */
const OKTA_RETENTION_DAYS = 90;
const MAX_LOOKBACK_DAYS = 180;

/**
 * Loads, validates and returns the configuration. Every problem found is collected and thrown at
 * once as a ConfigError whose lines each name the key at fault; a file that cannot be read or
 * parsed is a ForwarderError with code OF_CONFIG_UNREADABLE. Every secret is registered for
 * scrubbing before anything is validated.
 */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const { convictConfig, env, source, baseDir } = readConfiguration(options);
  const problems: string[] = [];
  try {
    convictConfig.validate({ allowed: 'strict' });
  } catch (err) {
    problems.push(...convictProblems(err, ''));
  }

  const properties = convictConfig.getProperties();
  const warnings: string[] = [];
  const orgs = loadOrgs(properties.okta.orgs, env, baseDir, problems, warnings);
  const config: ForwarderConfig = { ...properties, okta: { orgs } };

  checkKafka(config, baseDir, problems);
  checkSchemaRegistry(config, baseDir, problems, warnings);
  checkElasticsearch(config, baseDir, problems);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return { config, source, warnings };
}

/**
 * Registers the secrets of the configuration loadConfig would load, without validating it: the
 * CLI calls this first, so that nothing it prints, not even a crash, can show a secret. Never
 * throws; loadConfig reports what is wrong.
 */
export function registerConfiguredSecrets(options: LoadOptions = {}): void {
  try {
    readConfiguration(options);
  } catch {
    /* the command's loadConfig says what is wrong */
  }
}

/**
 * The environment and the file, merged but not validated, with every secret they hold or point to
 * registered for scrubbing: those of the environment before the file is read (a file that is not
 * JSON makes a message), those of the file before anything is validated (messages quote values).
 */
function readConfiguration(options: LoadOptions) {
  const env = options.env ?? process.env;
  const file = options.file ?? (env.OKTA_FORWARDER_CONFIG || undefined);
  const source = file ?? 'defaults and environment';
  const baseDir = file !== undefined ? dirname(resolve(file)) : process.cwd();
  const convictConfig = createConfig(env);
  registerConfigSecrets(convictConfig.getProperties(), env, baseDir);
  convictConfig.load(file !== undefined ? readConfigFile(file) : {});
  registerConfigSecrets(convictConfig.getProperties(), env, baseDir);
  return { convictConfig, env, source, baseDir };
}

/**
 * convict reports all problems in one message, a line each: "key: what is wrong: value was ..." or
 * "configuration param 'key' not declared in the schema". Turns them into "prefix.key: ..." lines.
 */
function convictProblems(err: unknown, prefix: string): string[] {
  return String((err as Error).message)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const undeclared = /^configuration param '([^']+)' not declared in the schema$/.exec(line);
      if (undeclared) return `${prefix}${undeclared[1]}: unknown setting (check its spelling against the configuration reference)`;
      const missing = /^configuration param '([^']+)' missing from config/.exec(line);
      if (missing) return `${prefix}${missing[1]}: missing, because its parent was set to something other than an object`;
      return `${prefix}${line}`;
    });
}

function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ForwarderError('OF_CONFIG_UNREADABLE', `reading configuration file ${file}: ${reason}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ForwarderError('OF_CONFIG_UNREADABLE', `reading configuration file ${file}: not valid JSON: ${describeJsonError(text, err)}`, {
      cause: err,
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ForwarderError('OF_CONFIG_UNREADABLE', `reading configuration file ${file}: the top level must be a JSON object`);
  }
  return parsed;
}

/**
 * JSON.parse reports a character position; people look for a line and a column. Some of its
 * messages quote the start of the file, which may hold a secret: that quote is dropped.
 */
function describeJsonError(text: string, err: unknown): string {
  const message = (err as Error).message.replace(/, .* is not valid JSON$/s, ' (not valid JSON)');
  const match = /position (\d+)/.exec(message);
  if (!match) return message;
  const position = Number(match[1]);
  const before = text.slice(0, position).split('\n');
  return `${message} (line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1})`;
}

function loadOrgs(raw: unknown, env: NodeJS.ProcessEnv, baseDir: string, problems: string[], warnings: string[]): OrgConfig[] {
  if (!Array.isArray(raw)) return [];
  const orgs: OrgConfig[] = [];
  const seenIds = new Map<string, number>();
  raw.forEach((element: unknown, index) => {
    const key = `okta.orgs[${index}]`;
    if (element === null || typeof element !== 'object' || Array.isArray(element)) {
      problems.push(`${key}: must be an object with at least "id", "domain" and "auth"`);
      return;
    }
    const orgConfig = createOrgConfig();
    orgConfig.load(element);
    try {
      orgConfig.validate({ allowed: 'strict' });
    } catch (err) {
      problems.push(...convictProblems(err, `${key}.`));
    }
    const org = orgConfig.getProperties() as OrgConfig;
    checkOrg(org, key, env, baseDir, problems, warnings);
    const firstIndex = seenIds.get(org.id);
    if (org.id !== '' && firstIndex !== undefined) {
      problems.push(`${key}.id: "${org.id}" is already the id of okta.orgs[${firstIndex}]; ids must be unique`);
    }
    seenIds.set(org.id, index);
    orgs.push(org);
  });
  return orgs;
}

function checkOrg(org: OrgConfig, key: string, env: NodeJS.ProcessEnv, baseDir: string, problems: string[], warnings: string[]): void {
  const auth = org.auth;
  if (auth.method === 'api-token') {
    if ((auth.tokenEnv === '') === (auth.tokenFile === '')) {
      problems.push(`${key}.auth: method "api-token" needs exactly one of tokenEnv (a variable name) or tokenFile (a path)`);
    } else if (auth.tokenEnv !== '' && !env[auth.tokenEnv]) {
      problems.push(`${key}.auth.tokenEnv: the environment variable ${auth.tokenEnv} is not set or is empty`);
    } else if (auth.tokenFile !== '') {
      auth.tokenFile = checkReadableFile(auth.tokenFile, `${key}.auth.tokenFile`, baseDir, problems);
    }
  } else {
    if (auth.clientId === '') problems.push(`${key}.auth.clientId: method "oauth" needs the service app's client id`);
    if (auth.privateKeyFile === '') {
      problems.push(`${key}.auth.privateKeyFile: method "oauth" needs the path of the service app's private key (PEM or JWK)`);
    } else {
      auth.privateKeyFile = checkReadableFile(auth.privateKeyFile, `${key}.auth.privateKeyFile`, baseDir, problems);
    }
  }
  if (org.initialLookbackDays < 1) {
    problems.push(`${key}.initialLookbackDays: must be at least 1 day`);
  } else if (org.initialLookbackDays > MAX_LOOKBACK_DAYS) {
    problems.push(
      `${key}.initialLookbackDays: must be at most ${MAX_LOOKBACK_DAYS} days (Okta keeps ${OKTA_RETENTION_DAYS}); value was ${org.initialLookbackDays}`,
    );
  } else if (org.initialLookbackDays > OKTA_RETENTION_DAYS) {
    warnings.push(
      `${key}.initialLookbackDays: ${org.initialLookbackDays} days asked, but Okta keeps ${OKTA_RETENTION_DAYS}: events older than that are gone`,
    );
  }
  if (org.pollIntervalSeconds < 1) problems.push(`${key}.pollIntervalSeconds: must be at least 1 second`);
  if (org.minPollIntervalSeconds < 1) problems.push(`${key}.minPollIntervalSeconds: must be at least 1 second`);
  else if (org.pollIntervalSeconds >= 1 && org.minPollIntervalSeconds > org.pollIntervalSeconds) {
    problems.push(`${key}.minPollIntervalSeconds: must be at most pollIntervalSeconds (${org.pollIntervalSeconds}); value was ${org.minPollIntervalSeconds}`);
  }
  if (org.allowInsecureHttp) {
    warnings.push(`${key}.allowInsecureHttp: plain HTTP to ${org.domain} is meant for the Okta simulator only`);
  }
}

function checkKafka(config: ForwarderConfig, baseDir: string, problems: string[]): void {
  const { sasl, tls, topics } = config.kafka;
  if (sasl.mechanism !== 'none') {
    if (sasl.username === '') problems.push(`kafka.sasl.username: SASL mechanism "${sasl.mechanism}" needs a user name`);
    if (sasl.password === '' && sasl.passwordFile === '') {
      problems.push('kafka.sasl.password: SASL needs a password: set KAFKA_SASL_PASSWORD or kafka.sasl.passwordFile');
    }
  }
  if (sasl.passwordFile !== '') sasl.passwordFile = checkReadableFile(sasl.passwordFile, 'kafka.sasl.passwordFile', baseDir, problems);
  for (const name of ['caFile', 'certFile', 'keyFile'] as const) {
    if (tls[name] !== '') tls[name] = checkReadableFile(tls[name], `kafka.tls.${name}`, baseDir, problems);
  }
  if ((tls.certFile === '') !== (tls.keyFile === '')) {
    problems.push('kafka.tls.keyFile: a client certificate needs both certFile and keyFile');
  }
  const names = Object.entries(topics);
  for (const [name, topic] of names) {
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) {
      problems.push(`kafka.topics.${name}: must be a Kafka topic name (letters, digits, ".", "_", "-"; at most 249); value was ${JSON.stringify(topic)}`);
    }
  }
  if (new Set(names.map(([, topic]) => topic)).size !== names.length) {
    problems.push(`kafka.topics: ${names.map(([name]) => name).join(', ')} must be ${names.length} different topics`);
  }
  if (config.kafka.eventsPartitions < 1) problems.push('kafka.eventsPartitions: must be at least 1');
  if (config.kafka.replicationFactor === 0 || config.kafka.replicationFactor < -1) {
    problems.push('kafka.replicationFactor: must be -1 (broker default) or at least 1');
  }
}

function checkSchemaRegistry(config: ForwarderConfig, baseDir: string, problems: string[], warnings: string[]): void {
  const registry = config.schemaRegistry;
  if (registry.passwordFile !== '') registry.passwordFile = checkReadableFile(registry.passwordFile, 'schemaRegistry.passwordFile', baseDir, problems);
  if ((registry.password !== '' || registry.passwordFile !== '') && registry.username === '') {
    problems.push('schemaRegistry.username: a password is set but no user name');
  }
  if (registry.url === '') {
    const unused = (['username', 'password', 'passwordFile', 'subject'] as const).filter((key) => registry[key] !== '');
    if (unused.length > 0) {
      warnings.push(`schemaRegistry.${unused.join(', schemaRegistry.')}: set, but schemaRegistry.url is empty, so no registry is used (records stay single-object encoded)`);
    }
  }
}

function checkElasticsearch(config: ForwarderConfig, baseDir: string, problems: string[]): void {
  const { auth, tls } = config.elasticsearch;
  if (auth.passwordFile !== '') auth.passwordFile = checkReadableFile(auth.passwordFile, 'elasticsearch.auth.passwordFile', baseDir, problems);
  if (auth.apiKeyFile !== '') auth.apiKeyFile = checkReadableFile(auth.apiKeyFile, 'elasticsearch.auth.apiKeyFile', baseDir, problems);
  if (tls.caFile !== '') tls.caFile = checkReadableFile(tls.caFile, 'elasticsearch.tls.caFile', baseDir, problems);
  if ((auth.password !== '' || auth.passwordFile !== '') && auth.username === '') {
    problems.push('elasticsearch.auth.username: a password is set but no user name');
  }
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(config.elasticsearch.indexPrefix)) {
    problems.push(
      `elasticsearch.indexPrefix: must be lower-case letters, digits, ".", "_" or "-", starting with a letter or digit; value was ${JSON.stringify(config.elasticsearch.indexPrefix)}`,
    );
  }
}

/** Resolves a path relative to the config file and checks that it can be read; returns the absolute path. */
function checkReadableFile(path: string, key: string, baseDir: string, problems: string[]): string {
  const absolute = isAbsolute(path) ? path : resolve(baseDir, path);
  try {
    accessSync(absolute, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push(`${key}: cannot read ${absolute} (${code === 'ENOENT' ? 'no such file' : code})`);
  }
  return absolute;
}
