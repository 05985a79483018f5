import { Buffer } from 'node:buffer';
import { Client, errors, Transport, type ClientOptions } from '@elastic/elasticsearch';
import { readSecret, readTlsFile, type ForwarderConfig } from '../config/index.js';
import { elasticsearchConnectionProblem, problemMessage } from '../connection-problems.js';
import { ForwarderError } from '../errors.js';
import { registerSecret } from '../logging/secrets.js';

type ElasticsearchConfig = ForwarderConfig['elasticsearch'];

/** The API key, else basic auth, else none; secrets read from their file or variable now. */
function readAuth(auth: ElasticsearchConfig['auth']): ClientOptions['auth'] {
  const apiKey = readSecret({ value: auth.apiKey, file: auth.apiKeyFile }, 'the Elasticsearch API key');
  if (apiKey !== '') return { apiKey };
  if (auth.username !== '') return { username: auth.username, password: readSecret({ value: auth.password, file: auth.passwordFile, username: auth.username }, 'the Elasticsearch password') };
  return undefined;
}

/** Elasticsearch client options from the configuration: nodes, TLS, API key or basic auth (secrets read from their file or variable). */
export function elasticsearchClientOptions(es: ElasticsearchConfig): ClientOptions {
  const clientAuth = readAuth(es.auth);
  return {
    nodes: es.nodes,
    ...(clientAuth ? { auth: clientAuth } : {}),
    tls: { rejectUnauthorized: es.tls.rejectUnauthorized, ...(es.tls.caFile ? { ca: readTlsFile('elasticsearch.tls.caFile', es.tls.caFile) } : {}) },
  };
}

/**
 * The Authorization header of every request, from the configured secret. It is read once and
 * again after each 401, like the Okta token file (src/okta/auth.ts): a password or API key fixed
 * or rotated in its file is used from the next request on, without a restart.
 */
export class ElasticsearchCredentials {
  private header: string | undefined;

  constructor(private readonly auth: ElasticsearchConfig['auth']) {}

  /** The header value, or undefined without authentication. Throws OF_SECRET_UNREADABLE (retriable) when the file cannot be read. */
  authorization(): string | undefined {
    if (this.header !== undefined) return this.header;
    const auth = readAuth(this.auth);
    if (!auth) return undefined;
    this.header =
      'apiKey' in auth
        ? `ApiKey ${auth.apiKey as string}`
        : `Basic ${Buffer.from(`${(auth as { username: string }).username}:${(auth as { password: string }).password}`).toString('base64')}`;
    // The encoded form is a secret too: it must not reach a log line either.
    registerSecret(this.header.slice(this.header.indexOf(' ') + 1));
    return this.header;
  }

  /** Elasticsearch refused the credentials: read the secret again before the next request. */
  forget(): void {
    this.header = undefined;
  }
}

/**
 * A transport that authenticates each request with the current credentials. After a 401 it reads
 * them again and, when they changed (the file was fixed), sends the request once more at once;
 * otherwise the 401 reaches the caller, whose retries read the file again each time.
 */
function reauthenticatingTransport(credentials: ElasticsearchCredentials): typeof Transport {
  class ReauthenticatingTransport extends Transport {
    // The base method is overloaded on `meta`; this one passes every form through unchanged.
    override async request(params: Parameters<Transport['request']>[0], options: Parameters<Transport['request']>[1] = {}): Promise<never> {
      const send = (authorization: string | undefined) =>
        super.request(params, authorization === undefined ? options : { ...options, headers: { ...options.headers, authorization } }) as Promise<never>;
      const used = credentials.authorization();
      try {
        return await send(used);
      } catch (err) {
        if (!(err instanceof errors.ResponseError) || err.meta.statusCode !== 401) throw err;
        credentials.forget();
        const fresh = credentials.authorization();
        if (fresh === used) throw err;
        return send(fresh);
      }
    }
  }
  return ReauthenticatingTransport;
}

/** `overrides` for callers with retries of their own (the sink sets maxRetries 0). */
export function createElasticsearchClient(es: ElasticsearchConfig, overrides: Partial<ClientOptions> = {}): Client {
  return new Client({ ...elasticsearchClientOptions(es), Transport: reauthenticatingTransport(new ElasticsearchCredentials(es.auth)), ...overrides });
}

/**
 * A request that failed for its connection or its credentials (TLS, a 401), as the forwarder
 * reports it: what failed and what to change, retriable (an operator may be fixing it). Other
 * failures are the caller's to explain: undefined.
 */
export function elasticsearchConnectionError(err: unknown, es: ElasticsearchConfig, what: string): ForwarderError | undefined {
  const problem = elasticsearchConnectionProblem(err, {
    nodes: es.nodes,
    caFile: es.tls.caFile,
    auth: { username: es.auth.username, passwordFile: es.auth.passwordFile, apiKey: es.auth.apiKey !== '' || es.auth.apiKeyFile !== '' },
  });
  if (!problem) return undefined;
  return new ForwarderError('OF_ELASTICSEARCH_CONNECTION', problemMessage(what, problem), { retriable: true, cause: err });
}
