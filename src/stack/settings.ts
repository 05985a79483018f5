import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root folder, from this file's place (src/stack or dist/stack). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const SERVICES = ['kafka', 'elasticsearch', 'prometheus'] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * Everything the local stack needs to know, from the environment with defaults. The ports are
 * not the services' usual ones (9092, 9200, 9090), so the stack can run beside a Kafka or an
 * Elasticsearch that the machine already has.
 */
export interface StackSettings {
  /** Runtime state: pid files, data, logs, endpoints.json. */
  stateDir: string;
  /** Downloads that outlive `down` and other clones (besides Maven's own ~/.m2). */
  cacheDir: string;
  kafkaVersion: string;
  elasticsearchVersion: string;
  kafkaPort: number;
  kafkaControllerPort: number;
  elasticsearchPort: number;
  elasticsearchTransportPort: number;
  prometheusPort: number;
  /** The password of the `elastic` superuser of the local Elasticsearch (security is on). */
  elasticPassword: string;
  /** host:port where Prometheus scrapes the forwarder's /metrics. */
  metricsTarget: string;
  /** How long to wait for a service to become ready, in ms. */
  readyTimeoutMs: number;
  /**
   * Heap of the local Elasticsearch (-Xms and -Xmx), default 512m, and lines added to its
   * elasticsearch.yml: a test's own node with a tiny write queue or a small request limit.
   */
  elasticsearchHeap?: string;
  elasticsearchSettings?: Readonly<Record<string, string | number>>;
  /**
   * The secure stack (`up --secure`): Kafka's client listener is SASL_SSL (SCRAM-SHA-512) on
   * kafkaPort, a second one on kafkaMtlsPort also requires a client certificate, and the broker
   * talks to itself over plain text on kafkaInternalPort (loopback); Elasticsearch serves HTTPS.
   * Certificates come from the stack's own CA in <stateDir>/certs.
   */
  secure?: SecureStackSettings;
}

export interface SecureStackSettings {
  kafkaMtlsPort: number;
  kafkaInternalPort: number;
  /** The SCRAM-SHA-512 user created when the broker's storage is formatted. */
  kafkaUsername: string;
  kafkaPassword: string;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${name} must be a port number (1-65535); value was ${JSON.stringify(raw)}`);
  return value;
}

/**
 * `secure`: the secure stack, with a state folder (.stack-secure) and ports (29xxx) of its own, so
 * it runs beside the plain one.
 */
export function stackSettings(env: NodeJS.ProcessEnv = process.env, options: { secure?: boolean } = {}): StackSettings {
  const plain = plainStackSettings(env, options.secure ? { stateDir: '.stack-secure', portBase: 29000 } : { stateDir: '.stack', portBase: 19000 });
  if (!options.secure) return plain;
  return {
    ...plain,
    secure: {
      kafkaMtlsPort: port(env, 'STACK_KAFKA_MTLS_PORT', 29094),
      kafkaInternalPort: port(env, 'STACK_KAFKA_INTERNAL_PORT', 29095),
      kafkaUsername: env.STACK_KAFKA_USERNAME || 'okta-forwarder',
      kafkaPassword: env.STACK_KAFKA_PASSWORD || 'okta-forwarder-local',
    },
  };
}

function plainStackSettings(env: NodeJS.ProcessEnv, defaults: { stateDir: string; portBase: number }): StackSettings {
  const base = defaults.portBase;
  return {
    stateDir: resolve(env.OKTA_FORWARDER_STACK_DIR || join(PROJECT_ROOT, defaults.stateDir)),
    cacheDir: resolve(env.OKTA_FORWARDER_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'okta-forwarder')),
    kafkaVersion: env.KAFKA_VERSION || '3.9.1',
    elasticsearchVersion: env.ELASTICSEARCH_VERSION || '8.19.7',
    kafkaPort: port(env, 'STACK_KAFKA_PORT', base + 92),
    kafkaControllerPort: port(env, 'STACK_KAFKA_CONTROLLER_PORT', base + 93),
    elasticsearchPort: port(env, 'STACK_ELASTICSEARCH_PORT', base + 200),
    elasticsearchTransportPort: port(env, 'STACK_ELASTICSEARCH_TRANSPORT_PORT', base + 300),
    prometheusPort: port(env, 'STACK_PROMETHEUS_PORT', base + 90),
    elasticPassword: env.STACK_ELASTIC_PASSWORD || 'okta-forwarder-local',
    metricsTarget: env.STACK_METRICS_TARGET || '127.0.0.1:9464',
    readyTimeoutMs: Number(env.STACK_READY_TIMEOUT_MS || 180_000),
  };
}
