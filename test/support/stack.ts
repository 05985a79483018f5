import type { Client } from '@elastic/elasticsearch';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createElasticsearchClient } from '../../src/elasticsearch/client.js';
import type { ElasticsearchEndpoint, KafkaEndpoint, PrometheusEndpoint, StackEndpoints } from '../../src/stack/endpoints.js';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEndpoints;
  }
}

function required<T>(endpoint: T | undefined, name: string): T {
  if (!endpoint) throw new Error(`the integration global setup did not provide ${name}`);
  return endpoint;
}

export const kafkaEndpoint = (): KafkaEndpoint => required(inject('stack').kafka, 'Kafka');
export const elasticsearchEndpoint = (): ElasticsearchEndpoint => required(inject('stack').elasticsearch, 'Elasticsearch');
export const prometheusEndpoint = (): PrometheusEndpoint => required(inject('stack').prometheus, 'Prometheus');

/** A client made the product's way (configuration from the environment, then createElasticsearchClient), without its own retries. */
export function forwarderElasticsearchClient(endpoint: ElasticsearchEndpoint = elasticsearchEndpoint()): Client {
  const { config } = loadConfig({ env: { ELASTICSEARCH_URL: endpoint.url, ELASTICSEARCH_USERNAME: endpoint.username, ELASTICSEARCH_PASSWORD: endpoint.password } });
  return createElasticsearchClient(config.elasticsearch, { maxRetries: 0 });
}
