import { inject } from 'vitest';
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
