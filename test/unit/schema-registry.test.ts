import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfluentSchemaCache, type PrefetchOptions, type SchemaLookup } from '../../src/avro/confluent-schemas.js';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { eventSchemaSubject, publishingCodecOptions, SchemaRegistryClient } from '../../src/avro/schema-registry.js';
import { currentSchemaVersion } from '../../src/avro/schema-versions.js';
import { loadConfig } from '../../src/config/index.js';
import { ForwarderError } from '../../src/errors.js';
import { createLogger } from '../../src/logging/logger.js';
import { untilAvailable } from '../../src/retry.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { fixtureEvents } from '../support/fixtures.js';
import { freePort } from '../support/net.js';

const SCHEMA_TEXT = readFileSync(join(PROJECT_ROOT, 'schemas', 'okta-log-event.avsc'), 'utf8');
const EVENTS = fixtureEvents();

const singleObject = createOktaEventCodec();
const writerWithId = (id: number) => createOktaEventCodec({ encodeWithConfluentId: id });
const unreachable = () => new ForwarderError('OF_SCHEMA_REGISTRY_UNREACHABLE', 'fetching schema id 7 from the schema registry http://registry/: connection refused', { retriable: true });

/** A lookup that records what it was asked and answers from a table: a schema, a reason, or an error to throw. */
function fakeRegistry(answers: Record<number, SchemaLookup | (() => SchemaLookup)>) {
  const asked: number[] = [];
  const lookup = async (id: number): Promise<SchemaLookup> => {
    asked.push(id);
    const answer = answers[id];
    if (answer === undefined) return { found: false, reason: `the schema registry http://registry/ has no schema with id ${id} (404)` };
    return typeof answer === 'function' ? answer() : answer;
  };
  return { asked, lookup };
}

/** Prefetch options that never really wait: the waits and retries are recorded. */
function instantRetries(overrides: Partial<PrefetchOptions> = {}) {
  const waits: number[] = [];
  const retries: { message: string; ids: number[]; attempt: number }[] = [];
  const options: PrefetchOptions = {
    sleep: async (ms) => {
      waits.push(ms);
      return true;
    },
    onRetry: (error, ids, attempt) => void retries.push({ message: error.message, ids, attempt }),
    random: () => 0,
    ...overrides,
  };
  return { waits, retries, options };
}

function decodeError(decode: () => unknown): ForwarderError {
  try {
    decode();
  } catch (err) {
    expect(err).toBeInstanceOf(ForwarderError);
    return err as ForwarderError;
  }
  throw new Error('expected a decode error');
}

describe('Confluent schema ids of a sink chunk, resolved before decoding', () => {
  it('lists each id the chunk needs once, and nothing for single-object records, empty values or ids already known', async () => {
    const { lookup } = fakeRegistry({ 7: { found: true, schema: SCHEMA_TEXT } });
    const cache = new ConfluentSchemaCache(lookup);
    const values = [writerWithId(7).encode({ uuid: 'a' }), writerWithId(9).encode({ uuid: 'b' }), writerWithId(7).encode({ uuid: 'c' }), singleObject.encode({ uuid: 'd' }), null, Buffer.alloc(0), Buffer.from([0, 0, 1])];
    expect(cache.unresolved(values)).toEqual([7, 9]);
    await cache.learn([7]);
    expect(cache.unresolved(values)).toEqual([9]);
  });

  it('decodes every fixture event exactly once the chunk ids are learned, asking the registry once per id', async () => {
    const { asked, lookup } = fakeRegistry({ 7: { found: true, schema: SCHEMA_TEXT } });
    const cache = new ConfluentSchemaCache(lookup);
    const reader = createOktaEventCodec({ confluentSchemas: cache.resolve });
    const writer = writerWithId(7);
    const values = EVENTS.map((event) => writer.encode(event));
    expect(decodeError(() => reader.decode(values[0]!)).message).toMatch(/unknown Confluent schema id 7/);
    const { retries, options } = instantRetries();
    await cache.prefetch(values, options);
    await cache.prefetch(values, options);
    expect(values.map((value) => reader.decode(value))).toStrictEqual(EVENTS);
    expect(asked).toEqual([7]);
    expect(retries).toEqual([]);
  });

  it('asks once for an id that two chunks in flight need at the same time', async () => {
    let answer: (lookup: SchemaLookup) => void = () => undefined;
    let lookups = 0;
    const cache = new ConfluentSchemaCache(() => {
      lookups += 1;
      return new Promise<SchemaLookup>((resolve) => (answer = resolve));
    });
    const chunk = [writerWithId(7).encode({ uuid: 'a' })];
    const first = cache.prefetch(chunk, instantRetries().options);
    const second = cache.prefetch(chunk, instantRetries().options);
    await Promise.resolve();
    answer({ found: true, schema: SCHEMA_TEXT });
    await Promise.all([first, second]);
    expect(lookups).toBe(1);
    expect(cache.resolve(7)).toBe(SCHEMA_TEXT);
  });

  it('makes an id the registry has no schema for a decode failure with the registry\'s reason, and asks again after a minute', async () => {
    let now = 1_000_000;
    const { asked, lookup } = fakeRegistry({});
    const cache = new ConfluentSchemaCache(lookup, { now: () => now });
    const reader = createOktaEventCodec({ confluentSchemas: cache.resolve });
    const chunk = [writerWithId(9).encode({ uuid: 'a' })];
    await cache.prefetch(chunk, instantRetries().options);
    const error = decodeError(() => reader.decode(chunk[0]!));
    expect(error.code).toBe('OF_AVRO_DECODE');
    expect(error.message).toBe('decoding an Avro record: resolving Confluent schema id 9: the schema registry http://registry/ has no schema with id 9 (404)');
    expect(cache.unresolved(chunk)).toEqual([]);
    now += 60_000;
    expect(cache.unresolved(chunk)).toEqual([9]);
    expect(asked).toEqual([9]);
  });

  it('takes a negative id for missing without asking the registry', async () => {
    const { asked, lookup } = fakeRegistry({});
    const cache = new ConfluentSchemaCache(lookup);
    const record = Buffer.concat([Buffer.from([0x00, 0xff, 0xff, 0xff, 0xfe]), singleObject.encode({ uuid: 'a' }).subarray(10)]);
    await cache.prefetch([record], instantRetries().options);
    expect(asked).toEqual([]);
    expect(decodeError(() => createOktaEventCodec({ confluentSchemas: cache.resolve }).decode(record)).message).toMatch(/schema id -2 is negative, which no schema registry hands out/);
  });

  it('makes a registry schema that is not a lossless LogEvent schema a decode failure', async () => {
    const { lookup } = fakeRegistry({ 5: { found: true, schema: '{"type":"record","name":"Other","fields":[{"name":"uuid","type":"string"}]}' } });
    const cache = new ConfluentSchemaCache(lookup);
    const chunk = [writerWithId(5).encode({ uuid: 'a' })];
    await cache.prefetch(chunk, instantRetries().options);
    expect(decodeError(() => createOktaEventCodec({ confluentSchemas: cache.resolve }).decode(chunk[0]!)).message).toMatch(/Confluent schema id 5 is not a lossless LogEvent schema/);
  });

  it('waits and retries while the registry does not answer, backing off, and decodes once it does', async () => {
    let failures = 3;
    const cache = new ConfluentSchemaCache(async () => {
      if (failures-- > 0) throw unreachable();
      return { found: true, schema: SCHEMA_TEXT };
    });
    const { waits, retries, options } = instantRetries();
    const chunk = [writerWithId(7).encode({ uuid: 'a' })];
    await cache.prefetch(chunk, options);
    // RETRY_POLICIES.unreachable with no jitter: half of 1 s, 2 s, 4 s.
    expect(waits).toEqual([500, 1000, 2000]);
    expect(retries.map((retry) => retry.attempt)).toEqual([1, 2, 3]);
    expect(retries[0]).toMatchObject({ ids: [7], message: expect.stringMatching(/connection refused/) });
    expect(createOktaEventCodec({ confluentSchemas: cache.resolve }).decode(chunk[0]!)).toEqual({ uuid: 'a' });
  });

  it('waits for an operator, not dead-letters, when the registry refuses the credentials', async () => {
    let refusals = 1;
    const cache = new ConfluentSchemaCache(async () => {
      if (refusals-- > 0) throw new ForwarderError('OF_SCHEMA_REGISTRY_UNAUTHORIZED', 'fetching schema id 7: the registry answered 401');
      return { found: true, schema: SCHEMA_TEXT };
    });
    const { waits, options } = instantRetries();
    await cache.prefetch([writerWithId(7).encode({ uuid: 'a' })], options);
    // RETRY_POLICIES.needsOperator with no jitter: half of 30 s.
    expect(waits).toEqual([15_000]);
    expect(cache.resolve(7)).toBe(SCHEMA_TEXT);
  });

  it('gives up when the sink abandons the batch while it waits', async () => {
    const cache = new ConfluentSchemaCache(async () => {
      throw unreachable();
    });
    const abandoned = new Error('the batch was abandoned');
    const { options } = instantRetries({ sleep: async () => Promise.reject(abandoned) });
    await expect(cache.prefetch([writerWithId(7).encode({ uuid: 'a' })], options)).rejects.toBe(abandoned);
    expect(cache.resolve(7)).toBeUndefined();
  });
});

interface Recorded {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A recording HTTP endpoint for the client's request shape and its reading of answers; each test says what it answers. */
async function recordingEndpoint(answer: (request: Recorded) => { status: number; body: string; type?: string }) {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const request = { method: req.method, url: req.url, headers: req.headers, body };
      requests.push(request);
      const reply = answer(request);
      res.writeHead(reply.status, { 'content-type': reply.type ?? 'application/vnd.schemaregistry.v1+json' });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  servers.push(server);
  return { url, requests };
}

const servers: Server[] = [];
const clients: SchemaRegistryClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

function clientFor(url: string, credentials: { username?: string; password?: string } = {}): SchemaRegistryClient {
  const client = new SchemaRegistryClient({ url, ...credentials });
  clients.push(client);
  return client;
}

async function failureOf(promise: Promise<unknown>): Promise<ForwarderError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ForwarderError);
    return err as ForwarderError;
  }
  throw new Error('expected a ForwarderError');
}

const registryError = (code: number, message: string) => JSON.stringify({ error_code: code, message });

describe('schema registry client', () => {
  it('registers the schema as written, with its JSON attributes, under the subject, with basic auth', async () => {
    const endpoint = await recordingEndpoint(() => ({ status: 200, body: '{"id":21}' }));
    const client = clientFor(`${endpoint.url}/apis/ccompat/v7`, { username: 'forwarder', password: 'registry-pass-123' });
    expect(await client.register('okta.system-log-value', currentSchemaVersion().schema)).toBe(21);
    const [request] = endpoint.requests;
    expect(request).toMatchObject({ method: 'POST', url: '/apis/ccompat/v7/subjects/okta.system-log-value/versions' });
    expect(request!.headers['content-type']).toBe('application/vnd.schemaregistry.v1+json');
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from('forwarder:registry-pass-123').toString('base64')}`);
    const sent = JSON.parse(request!.body) as { schema: string };
    expect(JSON.parse(sent.schema)).toEqual(JSON.parse(SCHEMA_TEXT));
    expect(sent.schema).toContain('"logicalType":"json"');
  });

  it('fetches a schema by id as the registry holds its text, without credentials when none are configured', async () => {
    const endpoint = await recordingEndpoint(() => ({ status: 200, body: JSON.stringify({ schema: SCHEMA_TEXT }) }));
    expect(await clientFor(endpoint.url).fetchSchema(7)).toEqual({ found: true, schema: SCHEMA_TEXT });
    expect(endpoint.requests[0]).toMatchObject({ method: 'GET', url: '/schemas/ids/7' });
    expect(endpoint.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('takes only the registry\'s own "schema not found" (404, 40403) for an unknown id; any other 404 is a wrong URL', async () => {
    const registry = await recordingEndpoint(() => ({ status: 404, body: registryError(40403, 'Schema 9 not found') }));
    expect(await clientFor(registry.url).fetchSchema(9)).toEqual({
      found: false,
      reason: `the schema registry ${registry.url}/ has no schema with id 9 (404): the record was written with another registry, or the schema was deleted`,
    });
    const proxy = await recordingEndpoint(() => ({ status: 404, body: '<html><title>Not Found</title></html>', type: 'text/html' }));
    const error = await failureOf(clientFor(proxy.url).fetchSchema(9));
    expect(error.code).toBe('OF_SCHEMA_REGISTRY_REFUSED');
    expect(error.message).toBe(
      `fetching schema id 9 from the schema registry ${proxy.url}/: the registry answered 404 (an HTML page titled "Not Found"): no schema registry API at this URL; check schemaRegistry.url, with its path prefix if the registry has one`,
    );
  });

  it('takes a schema id of another schema type for missing: the record is not an Avro LogEvent', async () => {
    const endpoint = await recordingEndpoint(() => ({ status: 200, body: JSON.stringify({ schemaType: 'PROTOBUF', schema: 'syntax = "proto3";' }) }));
    expect(await clientFor(endpoint.url).fetchSchema(3)).toEqual({ found: false, reason: `schema id 3 of the schema registry ${endpoint.url}/ is a PROTOBUF schema, not Avro` });
  });

  it('says what to do about 401, 403 and 409, and never repeats the password, even when the registry does', async () => {
    const password = 'registry-pass-456';
    const answers: Record<string, { status: number; body: string }> = {
      unauthorized: { status: 401, body: registryError(401, `Unauthorized: bad password ${password}`) },
      forbidden: { status: 403, body: registryError(40301, 'User cannot access the resource.') },
      incompatible: { status: 409, body: registryError(409, 'Schema being registered is incompatible with an earlier schema for subject "okta-value"') },
    };
    let current = 'unauthorized';
    const endpoint = await recordingEndpoint(() => answers[current]!);
    const client = clientFor(endpoint.url, { username: 'forwarder', password });

    const unauthorized = await failureOf(client.register('okta-value', currentSchemaVersion().schema));
    expect(unauthorized.code).toBe('OF_SCHEMA_REGISTRY_UNAUTHORIZED');
    expect(unauthorized.retriable).toBe(false);
    expect(unauthorized.message).toBe(
      `registering the Okta event schema under subject "okta-value" at the schema registry ${endpoint.url}/: the registry answered 401 (401: Unauthorized: bad password [REDACTED]): ` +
        'the user name "forwarder" or its password is wrong; check schemaRegistry.username and the password (SCHEMA_REGISTRY_PASSWORD or schemaRegistry.passwordFile)',
    );

    current = 'forbidden';
    const forbidden = await failureOf(client.register('okta-value', currentSchemaVersion().schema));
    expect(forbidden.code).toBe('OF_SCHEMA_REGISTRY_UNAUTHORIZED');
    expect(forbidden.message).toMatch(/answered 403 \(40301: User cannot access the resource\.\): the user "forwarder" may not register schemas under subject "okta-value"; have the registry's administrator grant it$/);

    current = 'incompatible';
    const incompatible = await failureOf(client.register('okta-value', currentSchemaVersion().schema));
    expect(incompatible.code).toBe('OF_SCHEMA_REGISTRY_INCOMPATIBLE');
    expect(incompatible.message).toMatch(/answered 409 \(409: Schema being registered is incompatible with an earlier schema for subject "okta-value"\): the schema is not compatible with the versions the subject already holds/);
    expect(incompatible.message).toMatch(/use a subject of its own \(schemaRegistry\.subject\)/);

    for (const error of [unauthorized, forbidden, incompatible]) expect(error.message).not.toContain(password);
  });

  it('tells a registry without credentials configured that it needs some', async () => {
    const endpoint = await recordingEndpoint(() => ({ status: 401, body: registryError(401, 'Unauthorized') }));
    const error = await failureOf(clientFor(endpoint.url).fetchSchema(7));
    expect(error.message).toMatch(/answered 401 \(401: Unauthorized\): the registry needs credentials; set schemaRegistry\.username and the password/);
  });

  it('reports a registry that is down or failing as retriable: refused connection, 5xx', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const refused = await failureOf(clientFor(closed, { username: 'forwarder', password: 'registry-pass-789' }).fetchSchema(7));
    expect(refused.code).toBe('OF_SCHEMA_REGISTRY_UNREACHABLE');
    expect(refused.retriable).toBe(true);
    expect(refused.message).toBe(`fetching schema id 7 from the schema registry ${closed}/: connection refused`);
    const failing = await recordingEndpoint(() => ({ status: 503, body: '<html><head><title>503 Service Unavailable</title></head></html>', type: 'text/html' }));
    const unavailable = await failureOf(clientFor(failing.url).register('okta-value', currentSchemaVersion().schema));
    expect(unavailable.code).toBe('OF_SCHEMA_REGISTRY_UNREACHABLE');
    expect(unavailable.retriable).toBe(true);
    expect(unavailable.message).toMatch(/the registry answered 503 \(an HTML page titled "503 Service Unavailable"\)$/);
  });
});

describe('the subject as `okta-forwarder check` reads it', () => {
  it('gives the latest version and id, nothing for a subject without versions (40401), and refuses any other 404 as a wrong URL', async () => {
    const endpoint = await recordingEndpoint((request) =>
      request.url?.includes('/subjects/known/')
        ? { status: 200, body: JSON.stringify({ subject: 'known', version: 3, id: 42, schema: SCHEMA_TEXT }) }
        : request.url?.includes('/subjects/new/')
          ? { status: 404, body: registryError(40401, "Subject 'new' not found.") }
          : { status: 404, body: '<html><title>Not Found</title></html>', type: 'text/html' },
    );
    const client = clientFor(`${endpoint.url}/registry`);
    expect(await client.latestVersion('known')).toEqual({ version: 3, id: 42 });
    expect(endpoint.requests[0]).toMatchObject({ method: 'GET', url: '/registry/subjects/known/versions/latest' });
    expect(await client.latestVersion('new')).toBeUndefined();
    const wrongUrl = await failureOf(client.latestVersion('elsewhere'));
    expect(wrongUrl.code).toBe('OF_SCHEMA_REGISTRY_REFUSED');
    expect(wrongUrl.message).toMatch(/no schema registry API at this URL; check schemaRegistry\.url/);
  });
});

describe('how the poller and import encode', () => {
  const silent = createLogger({ level: 'silent' });

  it('without a registry: single-object encoding, and no request anywhere', async () => {
    const { config } = loadConfig({ env: {} });
    expect(await publishingCodecOptions(config, silent)).toEqual({});
  });

  it('with a registry: registers the current schema under "<events topic>-value" and writes the Confluent wire format with its id', async () => {
    const endpoint = await recordingEndpoint(() => ({ status: 200, body: '{"id":4242}' }));
    const { config } = loadConfig({ env: { SCHEMA_REGISTRY_URL: endpoint.url, KAFKA_TOPIC_EVENTS: 'acme.okta-log' } });
    expect(eventSchemaSubject(config)).toBe('acme.okta-log-value');
    const options = await publishingCodecOptions(config, silent);
    expect(options).toEqual({ encodeWithConfluentId: 4242 });
    expect(endpoint.requests.map((request) => request.url)).toEqual(['/subjects/acme.okta-log-value/versions']);
    expect(createOktaEventCodec(options).encode({ uuid: 'a' }).subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0x10, 0x92]));
  });

  it('uses the configured subject; an unavailable registry and a refusal are errors for the caller to wait out (untilAvailable)', async () => {
    let status = 503;
    const endpoint = await recordingEndpoint(() => ({ status, body: status === 200 ? '{"id":3}' : status === 503 ? registryError(50003, 'Error while forwarding the request to the leader') : registryError(409, 'incompatible') }));
    const { config } = loadConfig({ env: { SCHEMA_REGISTRY_URL: endpoint.url, SCHEMA_REGISTRY_SUBJECT: 'okta events' } });
    expect((await failureOf(publishingCodecOptions(config, silent))).retriable).toBe(true);
    status = 409;
    expect((await failureOf(publishingCodecOptions(config, silent))).code).toBe('OF_SCHEMA_REGISTRY_INCOMPATIBLE');
    status = 200;
    const instant = { initialMs: 1, maxMs: 1, multiplier: 1 };
    let failures = 0;
    status = 503;
    // The registry comes back after the first refusal the wait has heard of.
    const onWaiting = (_dependency: string, reason: string | undefined) => {
      if (!reason) return;
      failures += 1;
      status = 200;
    };
    expect(await untilAvailable('the schema registry', 'registering', () => publishingCodecOptions(config, silent), { policy: instant, onWaiting })).toEqual({ encodeWithConfluentId: 3 });
    expect(failures).toBeGreaterThan(0);
    expect(new Set(endpoint.requests.map((request) => request.url))).toEqual(new Set(['/subjects/okta%20events/versions']));
  });

});
