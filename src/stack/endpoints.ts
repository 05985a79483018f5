/** Where each service of the stack answers, and who runs it. Written to <stateDir>/endpoints.json. */
export type Provider = 'environment' | 'containers' | 'local';

export interface KafkaEndpoint {
  provider: Provider;
  brokers: string[];
  /** The secure stack's brokers: SASL_SSL with SCRAM-SHA-512, trusting the stack's CA. */
  security?: KafkaSecurity;
}

export interface KafkaSecurity {
  caFile: string;
  mechanism: 'scram-sha-512';
  username: string;
  password: string;
  /** The listener that also requires a client certificate, and the stack's client certificate. */
  mtlsBrokers: string[];
  clientCertFile: string;
  clientKeyFile: string;
}

export interface ElasticsearchEndpoint {
  provider: Provider;
  url: string;
  /** Empty when the cluster needs no authentication. */
  username: string;
  password: string;
  /** The CA of an https URL's certificate, when it is not one the system trusts (the secure stack's). */
  caFile?: string;
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
