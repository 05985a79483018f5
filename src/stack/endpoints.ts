/** Where each service of the stack answers, and who runs it. Written to <stateDir>/endpoints.json. */
export type Provider = 'environment' | 'containers' | 'local';

export interface KafkaEndpoint {
  provider: Provider;
  brokers: string[];
}

export interface ElasticsearchEndpoint {
  provider: Provider;
  url: string;
  /** Empty when the cluster needs no authentication. */
  username: string;
  password: string;
}

export interface PrometheusEndpoint {
  provider: Provider;
  url: string;
}

export interface StackEndpoints {
  kafka?: KafkaEndpoint;
  elasticsearch?: ElasticsearchEndpoint;
  prometheus?: PrometheusEndpoint;
}
