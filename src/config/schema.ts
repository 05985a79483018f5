import convict from 'convict';

/**
 * The whole configuration of the forwarder, declared once. Every setting carries its
 * documentation (`doc`), its format, its default, the environment variable that overrides it
 * (`env`) and whether it is secret (`sensitive`: masked in every printout). A setting that
 * names where a secret is kept says so: `secretFile` (a file holding one) or `secretEnv` (an
 * environment variable holding one). Every secret is read and registered for scrubbing before the
 * configuration is validated (src/config/secrets.ts), so no message can show one. The generated
 * configuration reference in docs/configuration.md is checked against this file by a test.
 *
 * Secrets are never required inline: Okta credentials are read from a file or from an
 * environment variable that the org names; Kafka, schema registry and Elasticsearch passwords come
 * from their environment variables or from a file.
 */

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::\d{1,5})?$/;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ORG_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

function splitList(value: unknown): unknown {
  return typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
    : value;
}

/** An http(s) URL without credentials; `expected` and `credentialSettings` word the error. */
function checkHttpUrl(url: unknown, expected: string, credentialSettings: string): void {
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new Error(`${expected}; ${JSON.stringify(url)} is not`);
  }
  if (parsed.username || parsed.password) {
    // Credentials in a URL end up in logs and process listings; they have settings of their own.
    throw new Error(`must not carry credentials in the URL; use ${credentialSettings} instead`);
  }
}

convict.addFormats({
  'broker-list': {
    validate(value: unknown) {
      if (!Array.isArray(value) || value.length === 0) throw new Error('must be a non-empty list of "host:port" strings');
      for (const broker of value) {
        if (typeof broker !== 'string' || !HOST_PORT.test(broker)) {
          throw new Error(`must be a list of "host:port" strings; ${JSON.stringify(broker)} is not`);
        }
      }
    },
    coerce: splitList,
  },
  'url-list': {
    validate(value: unknown) {
      if (!Array.isArray(value) || value.length === 0) throw new Error('must be a non-empty list of http(s) URLs');
      for (const url of value) checkHttpUrl(url, 'must be a list of http(s) URLs', 'elasticsearch.auth.*');
    },
    coerce: splitList,
  },
  'optional-url': {
    validate(value: unknown) {
      if (value !== '') checkHttpUrl(value, 'must be empty or an http(s) URL', 'schemaRegistry.username and the password');
    },
  },
  'org-list': {
    // Each element is checked against ORG_SCHEMA by loadConfig, which reports per-element keys.
    validate(value: unknown) {
      if (!Array.isArray(value)) throw new Error('must be a list of org objects');
    },
  },
  ratio: {
    validate(value: unknown) {
      if (typeof value !== 'number' || !(value > 0 && value <= 1)) throw new Error('must be a number greater than 0 and at most 1');
    },
    coerce: Number,
  },
  'env-name': {
    validate(value: unknown) {
      if (value !== '' && (typeof value !== 'string' || !ENV_NAME.test(value))) {
        throw new Error('must be the name of an environment variable (letters, digits, underscores)');
      }
    },
  },
  'okta-domain': {
    validate(value: unknown) {
      if (typeof value !== 'string' || !HOSTNAME.test(value)) {
        throw new Error('must be the org\'s host name, such as "acme.okta.com" (no scheme, no path)');
      }
    },
  },
  'org-id': {
    validate(value: unknown) {
      if (typeof value !== 'string' || !ORG_ID.test(value)) {
        throw new Error('must be 1-63 characters of lower-case letters, digits, "-" or "_", starting with a letter or digit');
      }
    },
  },
});

/** One Okta org. Validated per element of `okta.orgs`; errors are reported as `okta.orgs[i].key`. */
export const ORG_SCHEMA = {
  id: {
    doc: 'Short name of the org: used in metric labels, Kafka headers, the transactional id and logs. Unique.',
    format: 'org-id',
    default: '',
  },
  domain: {
    doc: 'The org\'s host name, such as "acme.okta.com" or a custom domain (HTTPS is implied).',
    format: 'okta-domain',
    default: '',
  },
  auth: {
    method: {
      doc: 'How the forwarder authenticates: "api-token" (SSWS) or "oauth" (service app, private_key_jwt).',
      format: ['api-token', 'oauth'],
      default: 'api-token',
    },
    tokenEnv: {
      doc: 'api-token: name of the environment variable that holds the API token.',
      format: 'env-name',
      default: '',
      secretEnv: true,
    },
    tokenFile: {
      doc: 'api-token: path of a file that holds the API token; re-read when Okta answers 401, so a rotated token is picked up without a restart.',
      format: String,
      default: '',
      secretFile: true,
    },
    clientId: {
      doc: 'oauth: client id of the Okta service app.',
      format: String,
      default: '',
    },
    privateKeyFile: {
      doc: 'oauth: path of the service app\'s private key (PEM or JWK, RS256 or ES256).',
      format: String,
      default: '',
      secretFile: true,
    },
    keyId: {
      doc: 'oauth: key id ("kid") registered for that key in Okta; empty when the app has a single key.',
      format: String,
      default: '',
    },
    dpop: {
      doc: 'oauth: send DPoP proofs (set when the service app requires Demonstrating Proof-of-Possession).',
      format: Boolean,
      default: false,
    },
  },
  initialLookbackDays: {
    doc: 'How far back the first start reads, in days. Okta keeps 90 days; above 90 is a warning, above 180 an error.',
    format: 'nat',
    default: 60,
  },
  pollIntervalSeconds: {
    doc: 'The longest wait of a caught-up poller before it asks again, reached when the org is quiet (each empty page doubles the wait, from minPollIntervalSeconds up to this), in seconds.',
    format: 'nat',
    default: 15,
  },
  minPollIntervalSeconds: {
    doc: 'The shortest wait of a caught-up poller before it asks again, while events are flowing, in seconds; requests are also spaced evenly within rateLimitShare, so this is a floor, not a pace.',
    format: 'nat',
    default: 1,
  },
  rateLimitShare: {
    doc: 'Share of the org\'s /api/v1/logs rate limit (X-Rate-Limit-Limit) this forwarder may use; the rest stays for other integrations.',
    format: 'ratio',
    default: 0.5,
  },
  allowInsecureHttp: {
    doc: 'Talk plain HTTP to the org. Only for the project\'s Okta simulator; never for a real org.',
    format: Boolean,
    default: false,
  },
} as const;

export const CONFIG_SCHEMA = {
  log: {
    level: {
      doc: 'Level of the JSON log lines (on stdout; on stderr for commands whose stdout is data, such as config).',
      format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      env: 'LOG_LEVEL',
    },
  },
  okta: {
    orgs: {
      doc: 'The Okta orgs to read, each an object with the keys okta.orgs[].* below.',
      format: 'org-list',
      default: [] as unknown[],
    },
  },
  kafka: {
    brokers: {
      doc: 'Bootstrap brokers as "host:port" (comma-separated in the environment variable).',
      format: 'broker-list',
      default: ['localhost:9092'],
      env: 'KAFKA_BROKERS',
    },
    clientId: {
      doc: 'Kafka client id; also the prefix of transactional ids ("<clientId>-<org id>").',
      format: String,
      default: 'okta-forwarder',
      env: 'KAFKA_CLIENT_ID',
    },
    tls: {
      enabled: {
        doc: 'Connect to the brokers over TLS.',
        format: Boolean,
        default: false,
        env: 'KAFKA_TLS',
      },
      caFile: {
        doc: 'PEM file of the CA that signed the brokers\' certificates (empty: the system\'s CAs).',
        format: String,
        default: '',
      },
      certFile: {
        doc: 'PEM client certificate for mutual TLS (empty: none).',
        format: String,
        default: '',
      },
      keyFile: {
        doc: 'PEM private key of the client certificate.',
        format: String,
        default: '',
        secretFile: true,
      },
      rejectUnauthorized: {
        doc: 'Refuse brokers whose certificate does not verify. Turn off only for a test cluster.',
        format: Boolean,
        default: true,
      },
    },
    sasl: {
      mechanism: {
        doc: 'SASL mechanism: "none", "plain", "scram-sha-256" or "scram-sha-512".',
        format: ['none', 'plain', 'scram-sha-256', 'scram-sha-512'],
        default: 'none',
        env: 'KAFKA_SASL_MECHANISM',
      },
      username: {
        doc: 'SASL user name.',
        format: String,
        default: '',
        env: 'KAFKA_SASL_USERNAME',
      },
      password: {
        doc: 'SASL password. Set it through the environment variable, or use passwordFile.',
        format: String,
        default: '',
        env: 'KAFKA_SASL_PASSWORD',
        sensitive: true,
      },
      passwordFile: {
        doc: 'File that holds the SASL password (wins over password).',
        format: String,
        default: '',
        env: 'KAFKA_SASL_PASSWORD_FILE',
        secretFile: true,
      },
    },
    topics: {
      events: {
        doc: 'Topic of the Okta events (Avro records, key = event uuid).',
        format: String,
        default: 'okta.system-log',
        env: 'KAFKA_TOPIC_EVENTS',
      },
      checkpoints: {
        doc: 'Compacted topic of the poll cursors, written in the same transaction as the events.',
        format: String,
        default: 'okta-forwarder.checkpoints',
        env: 'KAFKA_TOPIC_CHECKPOINTS',
      },
      deadLetter: {
        doc: 'Topic of the records the sink could not index, with the reason in headers.',
        format: String,
        default: 'okta.system-log.dlq',
        env: 'KAFKA_TOPIC_DEAD_LETTER',
      },
      pollers: {
        doc: 'Empty topic whose partitions are the org slots the poller processes share through the group `kafka.pollerGroup` (an org polls in the process that holds its slot).',
        format: String,
        default: 'okta-forwarder.pollers',
        env: 'KAFKA_TOPIC_POLLERS',
      },
    },
    eventsPartitions: {
      doc: 'Partitions of the events topic when the forwarder creates it (the sink scales up to this many members).',
      format: 'nat',
      default: 6,
    },
    replicationFactor: {
      doc: 'Replication factor of the topics the forwarder creates (-1: the broker\'s default).',
      format: 'int',
      default: -1,
    },
    eventsRetentionHours: {
      doc: 'retention.ms of the events topic when the forwarder creates it, in hours.',
      format: 'nat',
      default: 168,
    },
    pollerGroup: {
      doc: 'Consumer group through which the poll and run processes of one configuration share its orgs: each org is polled by one process at a time.',
      format: String,
      default: 'okta-forwarder-pollers',
      env: 'KAFKA_POLLER_GROUP',
    },
    pollerSessionTimeoutMs: {
      doc: "How long the poller group waits for a poll or run process that stopped heartbeating (a crash, a lost host) before its orgs resume in the other processes, in ms; its orgs are polled again within about this time plus one rebalance. The broker's group.min.session.timeout.ms (6000 by default) is the lower bound.",
      format: 'nat',
      default: 10_000,
      env: 'KAFKA_POLLER_SESSION_TIMEOUT_MS',
    },
    consumerGroup: {
      doc: 'Consumer group of the sink.',
      format: String,
      default: 'okta-forwarder-sink',
      env: 'KAFKA_CONSUMER_GROUP',
    },
    consumerSessionTimeoutMs: {
      doc: "How long the group waits for a sink member that stopped heartbeating (a crash) before giving its partitions to the others, in ms; the broker's group.min.session.timeout.ms (6000 by default) is the lower bound.",
      format: 'nat',
      default: 30_000,
      env: 'KAFKA_CONSUMER_SESSION_TIMEOUT_MS',
    },
  },
  schemaRegistry: {
    url: {
      doc: 'Confluent Schema Registry (or a compatible one) as an http(s) URL, such as "https://schema-registry.internal:8081"; empty: no registry, records are Avro single-object encoded. With one, the poller registers the record schema at start and writes the Confluent wire format, and the sink looks up the schema ids it does not know.',
      format: 'optional-url',
      default: '',
      env: 'SCHEMA_REGISTRY_URL',
    },
    username: {
      doc: 'Basic-auth user name for the registry (empty: no authentication).',
      format: String,
      default: '',
      env: 'SCHEMA_REGISTRY_USERNAME',
    },
    password: {
      doc: 'Basic-auth password for the registry. Set it through the environment variable, or use passwordFile.',
      format: String,
      default: '',
      env: 'SCHEMA_REGISTRY_PASSWORD',
      sensitive: true,
    },
    passwordFile: {
      doc: 'File that holds the registry password (wins over password).',
      format: String,
      default: '',
      env: 'SCHEMA_REGISTRY_PASSWORD_FILE',
      secretFile: true,
    },
    subject: {
      doc: 'Subject the record schema is registered under (empty: "<kafka.topics.events>-value", the TopicNameStrategy).',
      format: String,
      default: '',
      env: 'SCHEMA_REGISTRY_SUBJECT',
    },
  },
  elasticsearch: {
    nodes: {
      doc: 'Elasticsearch URLs (comma-separated in the environment variable). No credentials in the URL.',
      format: 'url-list',
      default: ['http://localhost:9200'],
      env: 'ELASTICSEARCH_URL',
    },
    tls: {
      caFile: {
        doc: 'PEM file of the CA that signed Elasticsearch\'s certificate (empty: the system\'s CAs).',
        format: String,
        default: '',
      },
      rejectUnauthorized: {
        doc: 'Refuse a certificate that does not verify. Turn off only for a test cluster.',
        format: Boolean,
        default: true,
      },
    },
    auth: {
      username: {
        doc: 'Basic-auth user name (empty: no basic auth).',
        format: String,
        default: '',
        env: 'ELASTICSEARCH_USERNAME',
      },
      password: {
        doc: 'Basic-auth password. Set it through the environment variable, or use passwordFile.',
        format: String,
        default: '',
        env: 'ELASTICSEARCH_PASSWORD',
        sensitive: true,
      },
      passwordFile: {
        doc: 'File that holds the basic-auth password (wins over password).',
        format: String,
        default: '',
        env: 'ELASTICSEARCH_PASSWORD_FILE',
        secretFile: true,
      },
      apiKey: {
        doc: 'API key (the base64 "encoded" form); used instead of basic auth when set.',
        format: String,
        default: '',
        env: 'ELASTICSEARCH_API_KEY',
        sensitive: true,
      },
      apiKeyFile: {
        doc: 'File that holds the API key (wins over apiKey).',
        format: String,
        default: '',
        env: 'ELASTICSEARCH_API_KEY_FILE',
        secretFile: true,
      },
    },
    indexPrefix: {
      doc: 'Prefix of the daily indices: "<prefix>-YYYY.MM.DD" by the event\'s own published date.',
      format: String,
      default: 'okta-activity',
      env: 'ELASTICSEARCH_INDEX_PREFIX',
    },
  },
  metrics: {
    host: {
      doc: 'Address of the HTTP listener for /metrics, /healthz and /readyz.',
      format: String,
      default: '0.0.0.0',
      env: 'METRICS_HOST',
    },
    port: {
      doc: 'Port of that listener (0: disabled).',
      format: 'port',
      default: 9464,
      env: 'METRICS_PORT',
    },
  },
};

/** Creates a fresh convict instance of the schema, reading overrides from `env` only (never argv). */
export function createConfig(env: NodeJS.ProcessEnv) {
  return convict(CONFIG_SCHEMA, { env, args: [] });
}

export function createOrgConfig() {
  return convict(ORG_SCHEMA, { env: {}, args: [] });
}
