import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, redactConfig } from '../../src/config/index.js';
import { ConfigError, ForwarderError } from '../../src/errors.js';
import { exampleConfig } from '../support/example-config.js';
import { tempDir } from '../support/temp.js';
import { PROJECT_ROOT } from '../support/cli.js';

function writeConfig(content: unknown): string {
  const file = join(tempDir(), 'config.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

const acme = { id: 'acme', domain: 'acme.okta.com', auth: { tokenEnv: 'ACME_TOKEN' } };

describe('loading the configuration', () => {
  it('runs on defaults and the environment alone when no file is given', () => {
    const { config, source } = loadConfig({ env: {} });
    expect(source).toBe('defaults and environment');
    expect(config.kafka.brokers).toEqual(['localhost:9092']);
    expect(config.kafka.topics).toEqual({ events: 'okta.system-log', checkpoints: 'okta-forwarder.checkpoints', deadLetter: 'okta.system-log.dlq', pollers: 'okta-forwarder.pollers' });
    expect(config.elasticsearch.indexPrefix).toBe('okta-activity');
    expect(config.okta.orgs).toEqual([]);
  });

  it('fills every org setting the file leaves out with its documented default', () => {
    const file = writeConfig({ okta: { orgs: [acme] } });
    const [org] = loadConfig({ file, env: { ACME_TOKEN: 'x' } }).config.okta.orgs;
    expect(org).toMatchObject({ id: 'acme', initialLookbackDays: 60, pollIntervalSeconds: 15, rateLimitShare: 0.5, allowInsecureHttp: false });
    expect(org?.auth.method).toBe('api-token');
  });

  it('takes the file from OKTA_FORWARDER_CONFIG when --config is absent', () => {
    const file = writeConfig({ log: { level: 'debug' } });
    expect(loadConfig({ env: { OKTA_FORWARDER_CONFIG: file } }).config.log.level).toBe('debug');
  });

  it('lets environment variables override the file', () => {
    const file = writeConfig({ kafka: { brokers: ['file-broker:9092'] }, elasticsearch: { nodes: ['http://file-es:9200'] } });
    const { config } = loadConfig({ file, env: { KAFKA_BROKERS: 'a:9092, b:9093', ELASTICSEARCH_URL: 'https://es.example:9200' } });
    expect(config.kafka.brokers).toEqual(['a:9092', 'b:9093']);
    expect(config.elasticsearch.nodes).toEqual(['https://es.example:9200']);
  });

  it('accepts config/example.json as shipped, with its secret files resolved next to it', () => {
    const example = exampleConfig('not-a-real-secret');
    const { config, warnings } = loadConfig({ file: example.file, env: example.env });
    expect(config.okta.orgs.map((org) => org.id)).toEqual(['acme', 'globex']);
    expect(config.okta.orgs[1]?.auth.privateKeyFile).toBe(join(example.dir, 'secrets', 'globex-okta-key.pem'));
    expect(config.schemaRegistry.passwordFile).toBe(join(example.dir, 'secrets', 'schema-registry-password'));
    expect(warnings).toEqual([]);
  });

  it('accepts config/local.json, the local stack and simulator, once the simulator wrote its token', () => {
    const root = tempDir();
    mkdirSync(join(root, 'config'));
    mkdirSync(join(root, '.stack'));
    copyFileSync(join(PROJECT_ROOT, 'config', 'local.json'), join(root, 'config', 'local.json'));
    writeFileSync(join(root, '.stack', 'simulator-token'), 'sim-token\n');
    const { config, warnings } = loadConfig({ file: join(root, 'config', 'local.json'), env: {} });
    expect(config.okta.orgs[0]?.auth.tokenFile).toBe(join(root, '.stack', 'simulator-token'));
    expect(config.kafka.brokers).toEqual(['127.0.0.1:19092']);
    expect(warnings).toEqual([expect.stringContaining('meant for the Okta simulator only')]);
  });

  it('reports three mistakes at once, each naming its key', () => {
    const file = writeConfig({
      kafka: { brokers: ['no-port-here'], topicz: {} },
      okta: { orgs: [{ ...acme, rateLimitShare: 1.5 }] },
    });
    const problems = problemsOf(() => loadConfig({ file, env: { ACME_TOKEN: 'x' } }));
    expect(problems).toHaveLength(3);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^kafka\.brokers: must be a list of "host:port" strings; "no-port-here" is not/),
        expect.stringMatching(/^kafka\.topicz: unknown setting/),
        expect.stringMatching(/^okta\.orgs\[0\]\.rateLimitShare: must be a number greater than 0 and at most 1/),
      ]),
    );
  });

  it('names the org and key of per-org mistakes', () => {
    const file = writeConfig({
      okta: {
        orgs: [
          { id: 'acme', domain: 'https://acme.okta.com/', auth: { tokenEnv: 'ACME_TOKEN', tokenFile: '/x' } },
          { id: 'acme', domain: 'acme2.okta.com', auth: { method: 'oauth' }, pollIntervalSeconds: 0, colour: 'blue' },
          'acme3.okta.com',
          { id: 'initech', domain: 'initech.okta.com', auth: { tokenEnv: 'ACME_TOKEN' }, pollIntervalSeconds: 10, minPollIntervalSeconds: 30 },
        ],
      },
    });
    const problems = problemsOf(() => loadConfig({ file, env: { ACME_TOKEN: 'x' } }));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^okta\.orgs\[0\]\.domain: must be the org's host name/),
        expect.stringMatching(/^okta\.orgs\[0\]\.auth: method "api-token" needs exactly one of tokenEnv .* or tokenFile/),
        expect.stringMatching(/^okta\.orgs\[1\]\.id: "acme" is already the id of okta\.orgs\[0\]/),
        expect.stringMatching(/^okta\.orgs\[1\]\.auth\.clientId: method "oauth" needs/),
        expect.stringMatching(/^okta\.orgs\[1\]\.auth\.privateKeyFile: method "oauth" needs/),
        expect.stringMatching(/^okta\.orgs\[1\]\.pollIntervalSeconds: must be at least 1 second/),
        expect.stringMatching(/^okta\.orgs\[1\]\.colour: unknown setting/),
        expect.stringMatching(/^okta\.orgs\[2\]: must be an object/),
        'okta.orgs[3].minPollIntervalSeconds: must be at most pollIntervalSeconds (10); value was 30',
      ]),
    );
    expect(problems).toHaveLength(9);
  });

  it('says which environment variable holding a token is missing', () => {
    const file = writeConfig({ okta: { orgs: [acme] } });
    expect(problemsOf(() => loadConfig({ file, env: {} }))).toEqual([
      'okta.orgs[0].auth.tokenEnv: the environment variable ACME_TOKEN is not set or is empty',
    ]);
  });

  it('warns above the 90 days Okta keeps and refuses more than 180', () => {
    const warned = loadConfig({ file: writeConfig({ okta: { orgs: [{ ...acme, initialLookbackDays: 120 }] } }), env: { ACME_TOKEN: 'x' } });
    expect(warned.warnings).toEqual([expect.stringMatching(/^okta\.orgs\[0\]\.initialLookbackDays: 120 days asked, but Okta keeps 90/)]);
    const file = writeConfig({ okta: { orgs: [{ ...acme, initialLookbackDays: 181 }] } });
    expect(problemsOf(() => loadConfig({ file, env: { ACME_TOKEN: 'x' } }))).toEqual([
      expect.stringMatching(/^okta\.orgs\[0\]\.initialLookbackDays: must be at most 180 days/),
    ]);
  });

  it('checks cross-setting rules of Kafka and Elasticsearch', () => {
    const file = writeConfig({
      kafka: { sasl: { mechanism: 'plain' }, topics: { deadLetter: 'okta.system-log' }, tls: { certFile: '/does/not/exist.pem' } },
      elasticsearch: { nodes: ['http://user:pw@es:9200'], indexPrefix: 'Okta' },
    });
    const problems = problemsOf(() => loadConfig({ file, env: {} }));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^elasticsearch\.nodes: must not carry credentials in the URL/),
        'kafka.sasl.username: SASL mechanism "plain" needs a user name',
        'kafka.sasl.password: SASL needs a password: set KAFKA_SASL_PASSWORD or kafka.sasl.passwordFile',
        'kafka.tls.certFile: cannot read /does/not/exist.pem (no such file)',
        'kafka.tls.keyFile: a client certificate needs both certFile and keyFile',
        'kafka.topics: events, checkpoints, deadLetter, pollers must be 4 different topics',
        expect.stringMatching(/^elasticsearch\.indexPrefix: must be lower-case/),
      ]),
    );
  });

  it('has no schema registry by default, and refuses a registry URL that is not http(s) or carries credentials', () => {
    expect(loadConfig({ env: {} }).config.schemaRegistry).toEqual({ url: '', username: '', password: '', passwordFile: '', subject: '' });
    const env = { SCHEMA_REGISTRY_URL: 'https://registry.example:8081/apis/ccompat/v7', SCHEMA_REGISTRY_USERNAME: 'forwarder', SCHEMA_REGISTRY_PASSWORD: 'registry-secret' };
    expect(loadConfig({ env }).config.schemaRegistry).toMatchObject({ url: env.SCHEMA_REGISTRY_URL, username: 'forwarder', password: 'registry-secret' });
    expect(problemsOf(() => loadConfig({ env: { SCHEMA_REGISTRY_URL: 'registry.example:8081' } }))).toEqual([
      expect.stringMatching(/^schemaRegistry\.url: must be empty or an http\(s\) URL; "registry\.example:8081" is not/),
    ]);
    expect(problemsOf(() => loadConfig({ file: writeConfig({ schemaRegistry: { url: 'ftp://registry.example' } }), env: {} }))).toEqual([
      expect.stringMatching(/^schemaRegistry\.url: must be empty or an http\(s\) URL/),
    ]);
    const withCredentials = problemsOf(() => loadConfig({ file: writeConfig({ schemaRegistry: { url: 'https://u:hunter2-in-url@registry.example' } }), env: {} }));
    expect(withCredentials).toEqual([expect.stringMatching(/^schemaRegistry\.url: must not carry credentials in the URL; use schemaRegistry\.username and the password instead/)]);
  });

  it('checks the schema registry settings together: a password needs a user name, settings without a URL are warned about', () => {
    const file = writeConfig({ schemaRegistry: { url: 'https://registry.example', passwordFile: '/does/not/exist' } });
    expect(problemsOf(() => loadConfig({ file, env: {} }))).toEqual([
      'schemaRegistry.passwordFile: cannot read /does/not/exist (no such file)',
      'schemaRegistry.username: a password is set but no user name',
    ]);
    const { warnings } = loadConfig({ env: { SCHEMA_REGISTRY_USERNAME: 'forwarder', SCHEMA_REGISTRY_SUBJECT: 'okta-value' } });
    expect(warnings).toEqual(['schemaRegistry.username, schemaRegistry.subject: set, but schemaRegistry.url is empty, so no registry is used (records stay single-object encoded)']);
  });

  it('explains a file that is not JSON with its line and column, without quoting it', () => {
    const file = writeConfig('{\n  "log": { "level": "info" },\n  "kafka": { brokers: ["x:1"] }\n}');
    expect(() => loadConfig({ file, env: {} })).toThrow(/not valid JSON: .*line 3, column 14/);
    const quoting = writeConfig('{"elasticsearch": {"auth": {"password": hunter2-inline-secret}}}');
    try {
      loadConfig({ file: quoting, env: {} });
      expect.unreachable();
    } catch (err) {
      expect((err as ForwarderError).code).toBe('OF_CONFIG_UNREADABLE');
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('says when the file does not exist or is not an object', () => {
    expect(() => loadConfig({ file: '/no/such/config.json', env: {} })).toThrow('reading configuration file /no/such/config.json: no such file');
    expect(() => loadConfig({ file: writeConfig('[1, 2]'), env: {} })).toThrow(/the top level must be a JSON object/);
  });

  it('masks every sensitive setting that is set when the configuration is printed', () => {
    const { config } = loadConfig({ env: { KAFKA_SASL_PASSWORD: 'kafka-secret', ELASTICSEARCH_API_KEY: 'es-key', ELASTICSEARCH_PASSWORD: '' } });
    const printed = JSON.stringify(redactConfig(config));
    expect(printed).not.toContain('kafka-secret');
    expect(printed).not.toContain('es-key');
    expect(redactConfig(config).kafka.sasl.password).toBe('[Sensitive]');
    expect(redactConfig(config).elasticsearch.auth.password).toBe('');
    expect(config.kafka.sasl.password).toBe('kafka-secret');
    const registry = loadConfig({ env: { SCHEMA_REGISTRY_URL: 'http://registry:8081', SCHEMA_REGISTRY_USERNAME: 'u', SCHEMA_REGISTRY_PASSWORD: 'registry-secret' } }).config;
    expect(JSON.stringify(redactConfig(registry))).not.toContain('registry-secret');
    expect(redactConfig(registry).schemaRegistry.password).toBe('[Sensitive]');
  });
});
