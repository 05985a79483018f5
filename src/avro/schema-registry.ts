import { Pool } from 'undici';
import { readSecret, type ForwarderConfig } from '../config/index.js';
import { ForwarderError } from '../errors.js';
import { describeBody, describeNetworkError } from '../http-errors.js';
import type { Logger } from '../logging/logger.js';
import { registerCredentials, scrubbedExcerpt } from '../logging/secrets.js';
import type { SchemaLookup } from './confluent-schemas.js';
import type { OktaEventCodecOptions } from './index.js';
import { currentSchemaVersion } from './schema-versions.js';
import { MAX_CONFLUENT_SCHEMA_ID } from './wire-format.js';

/**
 * The Confluent Schema Registry REST API, the two calls the forwarder makes: register the record
 * schema under a subject (poller, `import`) and fetch a schema by id (sink).
 *
 * Written on undici rather than @kafkajs/confluent-schema-registry (4.1.0), which was tried:
 * its getSchema(id) hands back a compiled avsc Type whose schema() drops `"logicalType": "json"`,
 * and the lossless codec needs the writer schema's JSON as registered (a newer version only the
 * registry knows would decode its JSON-text fields as plain strings); its HTTP layer reports a
 * refused connection as status 400, which the sink could not tell from a real answer (a registry
 * that is down must be waited for, an unknown id dead-lettered); its register() refuses subjects
 * whose compatibility level is not the one it is given, and sets one on first registration; and it
 * requires Node.js 22, the forwarder runs on 20. Retries are the forwarder's own (src/retry.ts).
 */

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
/** Confluent's error code for GET /schemas/ids/{id} of an id it does not hold. */
const SCHEMA_NOT_FOUND = 40403;
/** Confluent's error code for a subject that holds no version. */
const SUBJECT_NOT_FOUND = 40401;

export interface SchemaRegistryClientOptions {
  /** Base URL of the REST API (a path prefix is kept: "https://host/apis/ccompat/v7"). */
  url: string;
  /** Basic authentication, when a user name is given. */
  username?: string;
  password?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

interface RegistryResponse {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export class SchemaRegistryClient {
  /** The base URL as it may be printed: origin and path, never credentials. */
  readonly url: string;
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly authorization: string | undefined;

  constructor(private readonly options: SchemaRegistryClientOptions) {
    const base = new URL(options.url);
    this.basePath = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
    this.url = `${base.origin}${this.basePath}`;
    this.pool = new Pool(base.origin, {
      connections: 4,
      connect: { timeout: options.connectTimeoutMs ?? 10_000 },
      headersTimeout: options.requestTimeoutMs ?? 30_000,
      bodyTimeout: options.requestTimeoutMs ?? 30_000,
    });
    this.authorization = options.username ? `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}` : undefined;
    // A registry that echoes the request in its error page must not get the header into a message.
    registerCredentials(options.username, options.password);
  }

  /**
   * Registers `schema` (Avro) under `subject` and returns its id. Idempotent: a schema the subject
   * already holds gets its existing id back. Throws ForwarderError: OF_SCHEMA_REGISTRY_UNREACHABLE
   * (retriable), _UNAUTHORIZED (401, 403), _INCOMPATIBLE (409), _REFUSED (anything else).
   */
  async register(subject: string, schema: object): Promise<number> {
    const what = `registering the Okta event schema under subject ${JSON.stringify(subject)} at the schema registry ${this.url}`;
    const response = await this.send(what, 'POST', `subjects/${encodeURIComponent(subject)}/versions`, JSON.stringify({ schema: JSON.stringify(schema) }));
    if (response.status !== 200) throw this.failure(what, response, `register schemas under subject ${JSON.stringify(subject)}`);
    const id = (parseJson(response.body) as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_CONFLUENT_SCHEMA_ID) {
      throw refused(`${what}: the registry answered 200 without a schema id (${describeBody(response.body, response.headers)})`);
    }
    return id;
  }

  /**
   * The schema registered under `id`, as the registry holds its text; `found: false` with the
   * reason when the registry says it has no such id (404, error code 40403) or it is not Avro. A
   * 404 that is not the registry's own answer (a wrong URL path) is thrown, like every other failure.
   */
  async fetchSchema(id: number): Promise<SchemaLookup> {
    const what = `fetching schema id ${id} from the schema registry ${this.url}`;
    const response = await this.send(what, 'GET', `schemas/ids/${id}`);
    if (response.status === 404 && registryError(response.body)?.code === SCHEMA_NOT_FOUND) {
      return { found: false, reason: `the schema registry ${this.url} has no schema with id ${id} (404): the record was written with another registry, or the schema was deleted` };
    }
    if (response.status !== 200) throw this.failure(what, response, 'read schemas');
    const found = parseJson(response.body) as { schema?: unknown; schemaType?: unknown } | undefined;
    if (typeof found?.schema !== 'string') {
      throw refused(`${what}: the registry answered 200 without a schema (${describeBody(response.body, response.headers)})`);
    }
    if (found.schemaType !== undefined && found.schemaType !== 'AVRO') {
      return { found: false, reason: `schema id ${id} of the schema registry ${this.url} is a ${String(found.schemaType)} schema, not Avro` };
    }
    return { found: true, schema: found.schema };
  }

  /**
   * The latest version registered under `subject`, or undefined when the subject holds none yet
   * (404, error code 40401): what `okta-forwarder check` shows. Throws like register().
   */
  async latestVersion(subject: string): Promise<{ version: number; id: number } | undefined> {
    const what = `reading subject ${JSON.stringify(subject)} from the schema registry ${this.url}`;
    const response = await this.send(what, 'GET', `subjects/${encodeURIComponent(subject)}/versions/latest`);
    if (response.status === 404 && registryError(response.body)?.code === SUBJECT_NOT_FOUND) return undefined;
    if (response.status !== 200) throw this.failure(what, response, `read subject ${JSON.stringify(subject)}`);
    const latest = parseJson(response.body) as { version?: unknown; id?: unknown } | undefined;
    if (typeof latest?.version !== 'number' || typeof latest.id !== 'number') {
      throw refused(`${what}: the registry answered 200 without a version and id (${describeBody(response.body, response.headers)})`);
    }
    return { version: latest.version, id: latest.id };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async send(what: string, method: 'GET' | 'POST', path: string, body?: string): Promise<RegistryResponse> {
    try {
      const response = await this.pool.request({
        method,
        path: `${this.basePath}${path}`,
        headers: {
          accept: `${CONTENT_TYPE}, application/json`,
          ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE }),
          ...(this.authorization ? { authorization: this.authorization } : {}),
        },
        ...(body === undefined ? {} : { body }),
      });
      return { status: response.statusCode, body: await response.body.text(), headers: response.headers };
    } catch (err) {
      throw new ForwarderError('OF_SCHEMA_REGISTRY_UNREACHABLE', `${what}: ${describeNetworkError(err, 'the schema registry', 'check schemaRegistry.url')}`, {
        retriable: true,
        cause: err,
      });
    }
  }

  /** The registry's refusal, with what to do; `action` is what was asked of it ("read schemas"). */
  private failure(what: string, response: RegistryResponse, action: string): ForwarderError {
    const { status } = response;
    const error = registryError(response.body);
    const answer = `${status} (${error ? `${error.code ?? 'no code'}: ${scrubbedExcerpt(error.message, 300)}` : describeBody(response.body, response.headers)})`;
    const said = `${what}: the registry answered ${answer}`;
    if (status === 401) {
      const fix = this.options.username
        ? `the user name ${JSON.stringify(this.options.username)} or its password is wrong; check schemaRegistry.username and the password (SCHEMA_REGISTRY_PASSWORD or schemaRegistry.passwordFile)`
        : 'the registry needs credentials; set schemaRegistry.username and the password (SCHEMA_REGISTRY_PASSWORD or schemaRegistry.passwordFile)';
      return new ForwarderError('OF_SCHEMA_REGISTRY_UNAUTHORIZED', `${said}: ${fix}`);
    }
    if (status === 403) {
      return new ForwarderError('OF_SCHEMA_REGISTRY_UNAUTHORIZED', `${said}: the user ${JSON.stringify(this.options.username ?? '')} may not ${action}; have the registry's administrator grant it`);
    }
    if (status === 409) {
      return new ForwarderError(
        'OF_SCHEMA_REGISTRY_INCOMPATIBLE',
        `${said}: the schema is not compatible with the versions the subject already holds, under the subject's compatibility level; ` +
          'use a subject of its own (schemaRegistry.subject), or have the registry\'s administrator review the subject',
      );
    }
    if (status >= 500 || status === 408 || status === 429) {
      return new ForwarderError('OF_SCHEMA_REGISTRY_UNREACHABLE', said, { retriable: true });
    }
    if (status === 404) return refused(`${said}: no schema registry API at this URL; check schemaRegistry.url, with its path prefix if the registry has one`);
    if (status === 422) return refused(`${said}: the registry refused the schema as invalid`);
    return refused(`${said}, which the forwarder does not expect`);
  }
}

/** A registry answer the forwarder cannot go on with until someone acts (not retriable). */
function refused(message: string): ForwarderError {
  return new ForwarderError('OF_SCHEMA_REGISTRY_REFUSED', message);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Confluent's error body: {"error_code": 40403, "message": "Schema 7 not found"}. */
function registryError(body: string): { code: number | undefined; message: string } | undefined {
  const parsed = parseJson(body) as { error_code?: unknown; message?: unknown } | undefined;
  if (!parsed || typeof parsed !== 'object' || typeof parsed.message !== 'string') return undefined;
  return { code: typeof parsed.error_code === 'number' ? parsed.error_code : undefined, message: parsed.message };
}

/** The subject of the record schema: schemaRegistry.subject, else TopicNameStrategy's "<events topic>-value". */
export function eventSchemaSubject(config: ForwarderConfig): string {
  return config.schemaRegistry.subject || `${config.kafka.topics.events}-value`;
}

/** The registry client from the configuration (password read from its file or variable); undefined when no registry is configured. */
export function createSchemaRegistryClient(config: ForwarderConfig): SchemaRegistryClient | undefined {
  const registry = config.schemaRegistry;
  if (registry.url === '') return undefined;
  const password = registry.username ? readSecret({ value: registry.password, file: registry.passwordFile, username: registry.username }, 'the schema registry password') : '';
  return new SchemaRegistryClient({ url: registry.url, username: registry.username, password });
}

/**
 * How the poller and `import` encode, as options for createOktaEventCodec (plain data: they can be
 * handed to a worker thread). Without a registry: `{}`, single-object encoding as always. With
 * one: the current schema is registered under the subject (the registry answers with the existing
 * id when it already holds it), and records are written in the Confluent wire format with that id.
 * One attempt: the callers wait for the registry (untilAvailable), a refusal included, which an
 * operator may fix (a password file, the subject's compatibility).
 */
export async function publishingCodecOptions(config: ForwarderConfig, logger: Logger): Promise<Pick<OktaEventCodecOptions, 'encodeWithConfluentId'>> {
  const client = createSchemaRegistryClient(config);
  if (!client) return {};
  const subject = eventSchemaSubject(config);
  try {
    const id = await client.register(subject, currentSchemaVersion().schema);
    logger.info({ registry: client.url, subject, schemaId: id }, 'Okta event schema registered: records are written in the Confluent wire format');
    return { encodeWithConfluentId: id };
  } finally {
    await client.close();
  }
}
