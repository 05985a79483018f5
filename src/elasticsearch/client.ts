import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import { readSecret, type ForwarderConfig } from '../config/index.js';

/** Elasticsearch client options from the configuration: nodes, TLS, API key or basic auth (secrets read from their file or variable). */
export function elasticsearchClientOptions(es: ForwarderConfig['elasticsearch']): ClientOptions {
  const { auth, tls } = es;
  const apiKey = readSecret({ value: auth.apiKey, file: auth.apiKeyFile }, 'the Elasticsearch API key');
  let clientAuth: ClientOptions['auth'];
  if (apiKey !== '') {
    clientAuth = { apiKey };
  } else if (auth.username !== '') {
    clientAuth = { username: auth.username, password: readSecret({ value: auth.password, file: auth.passwordFile, username: auth.username }, 'the Elasticsearch password') };
  }
  return {
    nodes: es.nodes,
    ...(clientAuth ? { auth: clientAuth } : {}),
    tls: { rejectUnauthorized: tls.rejectUnauthorized, ...(tls.caFile ? { ca: readFileSync(tls.caFile, 'utf8') } : {}) },
  };
}

/** `overrides` for callers with retries of their own (the sink sets maxRetries 0). */
export function createElasticsearchClient(es: ForwarderConfig['elasticsearch'], overrides: Partial<ClientOptions> = {}): Client {
  return new Client({ ...elasticsearchClientOptions(es), ...overrides });
}
