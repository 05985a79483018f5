import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, readSecret } from '../../src/config/index.js';
import { elasticsearchClientOptions } from '../../src/elasticsearch/client.js';
import { createKafka, kafkaClientConfig } from '../../src/kafka/client.js';
import { createLogger } from '../../src/logging/logger.js';
import { clearSecrets, scrubSecrets } from '../../src/logging/secrets.js';
import { runCli } from '../support/cli.js';
import { exampleConfig } from '../support/example-config.js';

const CANARY = 'canary-7f3a9c1e-do-not-log';

function capture(level = 'trace') {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => void lines.push(line) } });
  return { logger, output: () => lines.join('') };
}

describe('secrets in logs', () => {
  afterEach(() => clearSecrets());

  it('never writes a canary secret, whichever code path carries it to the logger', () => {
    const example = exampleConfig(CANARY);
    const tokenFile = join(example.dir, 'secrets', 'okta-token');
    writeFileSync(tokenFile, `${CANARY}-file\n`);
    const env = {
      ...example.env,
      KAFKA_SASL_PASSWORD: CANARY,
      ELASTICSEARCH_PASSWORD: `${CANARY}-es`,
      ELASTICSEARCH_USERNAME: 'forwarder',
      ELASTICSEARCH_API_KEY_FILE: '',
    };
    const { config } = loadConfig({ file: example.file, env });
    // The secrets really are in what gets logged below; otherwise this test would prove nothing.
    expect(config.kafka.sasl.password).toBe(CANARY);
    const kafkaOptions = kafkaClientConfig(config.kafka);
    expect(JSON.stringify(kafkaOptions)).toContain(CANARY);
    const esOptions = elasticsearchClientOptions({ ...config.elasticsearch, auth: { ...config.elasticsearch.auth, apiKeyFile: '' } });
    expect(JSON.stringify(esOptions)).toContain(`${CANARY}-es`);
    const fileToken = readSecret({ file: tokenFile }, 'the Okta API token');
    expect(fileToken).toBe(`${CANARY}-file`);

    const { logger, output } = capture();
    logger.info({ config }, 'loaded configuration');
    logger.debug({ kafkaOptions, esOptions }, 'client options');
    logger.info({ req: { method: 'GET', url: '/api/v1/logs', headers: { authorization: `SSWS ${fileToken}` } } }, 'request');
    logger.info({ form: { client_assertion: `eyJ.${CANARY}`, access_token: CANARY } }, 'token exchange');
    logger.error({ err: new Error(`Okta answered 401 for token ${fileToken}`, { cause: new Error(`inner ${CANARY}`) }) }, 'poll failed');
    logger.warn(`retrying with token ${fileToken} and password ${CANARY}`);
    logger.child({ org: 'acme', token: CANARY }).info('child logger');
    createKafka(config.kafka, logger).logger().error(`broker said: SASL authentication failed for ${CANARY}`, { password: CANARY });

    const written = output();
    expect(written.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(8);
    expect(written).not.toContain(CANARY);
    expect(written).toContain('[REDACTED]');
    // Lines stay valid JSON after scrubbing.
    for (const line of written.split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('scrubs a registered secret even where it is JSON-escaped', () => {
    readSecret({ value: 'pa"ss\\word-123' }, 'a password');
    expect(scrubSecrets(JSON.stringify({ note: 'pa"ss\\word-123' }))).toBe('{"note":"[REDACTED]"}');
  });

  it('leaves short values alone so ordinary words are not scrubbed', () => {
    readSecret({ value: 'true' }, 'a flag');
    expect(scrubSecrets('{"enabled":true}')).toBe('{"enabled":true}');
  });

  it('keeps the canary out of everything the CLI prints', async () => {
    const example = exampleConfig(CANARY);
    const result = await runCli(['config', '--config', example.file], {
      ...example.env,
      KAFKA_SASL_PASSWORD: CANARY,
      ELASTICSEARCH_API_KEY: CANARY,
      ELASTICSEARCH_USERNAME: 'forwarder',
      ELASTICSEARCH_PASSWORD: CANARY,
      SCHEMA_REGISTRY_PASSWORD: CANARY,
      LOG_LEVEL: 'trace',
    });
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(CANARY);
  });
});

describe('KafkaJS log lines', () => {
  function kafkaLines() {
    const { logger, output } = capture('debug');
    const example = exampleConfig(CANARY);
    const { config } = loadConfig({ file: example.file, env: { ...example.env, KAFKA_SASL_PASSWORD: 'x', ELASTICSEARCH_PASSWORD: 'y', ELASTICSEARCH_USERNAME: 'forwarder', ELASTICSEARCH_API_KEY_FILE: '' } });
    const kafkaLogger = createKafka(config.kafka, logger).logger();
    const lines = () =>
      output()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { level: string; msg: string });
    return { kafkaLogger, lines };
  }
  const concurrent = 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing';

  it('are no error for what KafkaJS retries as part of normal work, and no warning about guarantees that do not apply', () => {
    const { kafkaLogger, lines } = kafkaLines();
    kafkaLogger.warn('Limiting retries for the idempotent producer may invalidate EoS guarantees', { maxRetries: 10 });
    kafkaLogger.error(`Failed to send messages: ${concurrent}`, { retryCount: 0, retryTime: 21 });
    kafkaLogger.error('Response AddPartitionsToTxn(key: 24, version: 1)', { error: concurrent, correlationId: 7, size: 40 });
    kafkaLogger.error('Response FindCoordinator(key: 10, version: 2)', { error: "The coordinator is loading and hence can't process requests", correlationId: 8 });
    expect(lines().map((line) => line.level)).toEqual(['debug', 'debug', 'debug', 'debug']);
  });

  it('are warnings for other conditions KafkaJS retries by itself, and errors for the rest', () => {
    const { kafkaLogger, lines } = kafkaLines();
    kafkaLogger.error('Failed to send messages: Connection timeout', { retryCount: 1, retryTime: 600 });
    kafkaLogger.error('Response Produce(key: 0, version: 7)', { error: 'This server is not the leader for that topic-partition' });
    kafkaLogger.error('Crash: KafkaJSNumberOfRetriesExceeded: Connection timeout', { groupId: 'sink', retryCount: 5 });
    expect(lines().map((line) => `${line.level} ${line.msg.split(':')[0]}`)).toEqual(['warn Failed to send messages', 'warn Response Produce(key', 'error Crash']);
  });
});
