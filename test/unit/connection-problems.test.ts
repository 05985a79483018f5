import { errors } from '@elastic/elasticsearch';
import kafkajs, { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import {
  elasticsearchConnectionProblem,
  kafkaConnectionProblem,
  tlsProblem,
  type CertificateSummary,
  type ElasticsearchConnectionSetup,
  type KafkaConnectionSetup,
} from '../../src/connection-problems.js';
import { elasticsearchClientOptions } from '../../src/elasticsearch/client.js';
import { kafkaClientConfig } from '../../src/kafka/client.js';
import { createLogger } from '../../src/logging/logger.js';

const { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded } = kafkajs;
// KafkaJS's type declarations lack or narrow these constructors; the classes take what is passed here.
type ErrorClass = new (...args: unknown[]) => Error;
const kafkaErrors = kafkajs as unknown as Record<string, ErrorClass>;
const KafkaJSConnectionClosedError = kafkaErrors.KafkaJSConnectionClosedError as ErrorClass;
const KafkaJSProtocolError = kafkaErrors.KafkaJSProtocolError as ErrorClass;
const KafkaJSSASLAuthenticationError = kafkaErrors.KafkaJSSASLAuthenticationError as ErrorClass;

// The errors as KafkaJS throws them from admin.connect() (messages as seen against the secure stack).
const afterRetries = (message: string, code?: string) =>
  new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError(message, code ? { code } : {}), { retryCount: 5, retryTime: 3000 });
const openssl = (alert: string, number: number) =>
  `Connection error: 80AC21E6877F0000:error:0A000416:SSL routines:ssl3_read_bytes:sslv3 alert ${alert}:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number ${number}\n`;

const NOW = new Date('2026-12-06T12:00:00Z');

const kafkaSetup = (overrides: Partial<KafkaConnectionSetup> = {}): KafkaConnectionSetup => ({
  brokers: ['kafka-1.internal:9093'],
  tls: { enabled: true, caFile: '/etc/forwarder/kafka-ca.pem', certFile: '' },
  sasl: { mechanism: 'scram-sha-512', username: 'forwarder', passwordFile: '/run/secrets/kafka-password' },
  ...overrides,
});

const certificate = (overrides: Partial<CertificateSummary> = {}): CertificateSummary => ({
  file: '/etc/forwarder/client.pem',
  subject: 'CN=okta-forwarder',
  issuer: 'CN=Corp Issuing CA',
  validFrom: new Date('2026-01-01T00:00:00Z'),
  validTo: new Date('2027-01-01T00:00:00Z'),
  ...overrides,
});

const withClientCertificate = (summary: CertificateSummary | undefined) =>
  kafkaSetup({ tls: { enabled: true, caFile: '/etc/forwarder/kafka-ca.pem', certFile: summary?.file ?? '/etc/forwarder/client.pem' }, clientCertificate: summary });

describe('why a Kafka connection failed', () => {
  it('a CA that did not sign the brokers\' certificate: TLS, naming the CA file in use and kafka.tls.caFile', () => {
    const problem = kafkaConnectionProblem(afterRetries('Connection error: unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'), kafkaSetup(), NOW);
    expect(problem.part).toBe('TLS');
    expect(problem.detail).toBe(
      "the brokers' certificate is not signed by a CA this client trusts (unable to verify the first certificate); trusted now: /etc/forwarder/kafka-ca.pem. Set kafka.tls.caFile to the PEM file of the CA that signed the brokers' certificate",
    );
  });

  it('a self-signed chain with the system\'s CAs says no caFile is set', () => {
    const problem = kafkaConnectionProblem(afterRetries('Connection error: self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'), kafkaSetup({ tls: { enabled: true, caFile: '', certFile: '' } }), NOW);
    expect(problem.part).toBe('TLS');
    expect(problem.detail).toContain("trusted now: the system's CAs (no caFile set)");
  });

  it('a broker address the certificate does not list, an expired or not yet valid server certificate', () => {
    const hostname = kafkaConnectionProblem(
      afterRetries("Connection error: Hostname/IP does not match certificate's altnames: Host: kafka-1.internal. is not in the cert's altnames: DNS:kafka.internal", 'ERR_TLS_CERT_ALTNAME_INVALID'),
      kafkaSetup(),
      NOW,
    );
    expect(hostname).toEqual({ part: 'TLS', detail: expect.stringMatching(/^the brokers' certificate is not issued for the address connected to \(Hostname\/IP does not match .*\): connect to a name the certificate lists \(kafka\.brokers\)/) });
    expect(kafkaConnectionProblem(afterRetries('Connection error: certificate has expired', 'CERT_HAS_EXPIRED'), kafkaSetup(), NOW).detail).toBe(
      "the brokers' certificate has expired (certificate has expired): the brokers need a renewed certificate",
    );
    expect(kafkaConnectionProblem(afterRetries('Connection error: certificate is not yet valid', 'CERT_NOT_YET_VALID'), kafkaSetup(), NOW).detail).toMatch(/not valid yet .*check the clocks/);
  });

  it('a refused client certificate: none configured, expired, not yet valid, or from a CA the brokers do not trust', () => {
    const badCertificate = afterRetries(openssl('bad certificate', 42), 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE');
    const unknown = afterRetries(openssl('certificate unknown', 46), 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN');
    expect(kafkaConnectionProblem(badCertificate, kafkaSetup(), NOW)).toEqual({
      part: 'TLS',
      detail: 'the brokers require a client certificate (mutual TLS) and none is configured (sslv3 alert bad certificate): set kafka.tls.certFile and kafka.tls.keyFile',
    });
    const expired = certificate({ validTo: new Date('2026-11-30T00:00:00Z') });
    expect(kafkaConnectionProblem(unknown, withClientCertificate(expired), NOW).detail).toBe(
      'the brokers refused the client certificate /etc/forwarder/client.pem (sslv3 alert certificate unknown): it expired on 2026-11-30T00:00:00.000Z: renew it',
    );
    const early = certificate({ validFrom: new Date('2026-12-24T00:00:00Z') });
    expect(kafkaConnectionProblem(unknown, withClientCertificate(early), NOW).detail).toMatch(/it is not valid before 2026-12-24T00:00:00\.000Z: check the clocks/);
    expect(kafkaConnectionProblem(unknown, withClientCertificate(certificate()), NOW).detail).toBe(
      'the brokers refused the client certificate /etc/forwarder/client.pem (subject CN=okta-forwarder, issued by CN=Corp Issuing CA; sslv3 alert certificate unknown): it must be signed by a CA that the brokers trust',
    );
    // A certificate file that could not be read: the file is named, what is wrong with it is for the operator to see.
    expect(kafkaConnectionProblem(unknown, withClientCertificate(undefined), NOW).detail).toMatch(/refused the client certificate \/etc\/forwarder\/client\.pem \(sslv3 alert certificate unknown\)/);
    // TLS 1.2 brokers send their own alerts for the same refusals.
    for (const alert of ['certificate expired', 'unknown ca', 'certificate required']) {
      expect(kafkaConnectionProblem(afterRetries(openssl(alert, 45)), withClientCertificate(certificate()), NOW).detail, alert).toMatch(/^the brokers refused the client certificate/);
    }
  });

  it('a key file that is not the certificate\'s key', () => {
    const problem = kafkaConnectionProblem(afterRetries('Failed to connect: error:05800074:x509 certificate routines::key values mismatch'), withClientCertificate(certificate()), NOW);
    expect(problem).toEqual({ part: 'TLS', detail: 'kafka.tls.keyFile is not the private key of the certificate /etc/forwarder/client.pem (key values mismatch): configure the key that was issued with it' });
  });

  it('TLS to a plain-text listener', () => {
    const problem = kafkaConnectionProblem(afterRetries('Connection error: Client network socket disconnected before secure TLS connection was established', 'ECONNRESET'), kafkaSetup(), NOW);
    expect(problem.part).toBe('TLS');
    expect(problem.detail).toMatch(/^the brokers did not answer in TLS .*plain-text port/);
  });

  it('a refused SCRAM login: authentication, naming the user and the password file that is read again, never a password', () => {
    const error = new KafkaJSSASLAuthenticationError(
      'SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
    );
    const problem = kafkaConnectionProblem(error, kafkaSetup(), NOW);
    expect(problem.part).toBe('authentication');
    expect(problem.detail).toMatch(
      /^the brokers refused the SCRAM-SHA-512 login of user "forwarder" \(SASL SCRAM SHA512 authentication failed: .*\): check the password in the file \/run\/secrets\/kafka-password \(kafka\.sasl\.passwordFile, read again at each connection\), and that the user exists for SCRAM-SHA-512/,
    );
    const inline = kafkaConnectionProblem(error, kafkaSetup({ sasl: { mechanism: 'scram-sha-256', username: 'forwarder', passwordFile: '' } }), NOW);
    expect(inline.detail).toContain('check the password in kafka.sasl.password (KAFKA_SASL_PASSWORD)');
  });

  it('a listener that closes at once, or takes no SASL, or is not there: the brokers row, with the settings to compare', () => {
    const closed = kafkaConnectionProblem(new KafkaJSConnectionClosedError('Closed connection', { host: 'kafka-1.internal', port: 9093 }), kafkaSetup({ tls: { enabled: false, caFile: '', certFile: '' } }), NOW);
    expect(closed).toEqual({
      part: 'connection',
      detail: "kafka-1.internal:9093 closed the connection at once: the listener may expect TLS or SASL that this client does not use (kafka.tls.enabled is false, kafka.sasl.mechanism is scram-sha-512); check them against the listener's security protocol",
    });
    const noSasl = kafkaConnectionProblem(new KafkaJSProtocolError({ type: 'ILLEGAL_SASL_STATE', code: 34, retriable: false, message: 'Request is not valid given the current SASL state' }), kafkaSetup(), NOW);
    expect(noSasl.part).toBe('connection');
    expect(noSasl.detail).toMatch(/do not take a SASL login on this listener .*set kafka\.sasl\.mechanism to none/);
    const refused = kafkaConnectionProblem(afterRetries('Connection error: connect ECONNREFUSED 10.0.0.7:9093', 'ECONNREFUSED'), kafkaSetup(), NOW);
    expect(refused).toEqual({ part: 'connection', detail: 'connect ECONNREFUSED 10.0.0.7:9093 (brokers kafka-1.internal:9093): check kafka.brokers, TLS and SASL settings' });
  });
});

describe('why a connection to Elasticsearch failed', () => {
  const setup = (overrides: Partial<ElasticsearchConnectionSetup> = {}): ElasticsearchConnectionSetup => ({
    nodes: ['https://es.internal:9200'],
    caFile: '/etc/forwarder/es-ca.pem',
    auth: { username: 'forwarder', passwordFile: '/run/secrets/es-password', apiKey: false },
    ...overrides,
  });
  const unauthorized = () =>
    new errors.ResponseError({
      body: { error: { type: 'security_exception', reason: 'unable to authenticate user [forwarder] for REST request [/_cluster/health]' }, status: 401 },
      statusCode: 401,
      headers: {},
      warnings: null,
      meta: {} as never,
    });

  it('a CA that did not sign its certificate: TLS, naming elasticsearch.tls.caFile', () => {
    const problem = elasticsearchConnectionProblem(new errors.ConnectionError('unable to verify the first certificate'), setup(), NOW);
    expect(problem).toEqual({
      part: 'TLS',
      detail:
        "Elasticsearch's certificate is not signed by a CA this client trusts (unable to verify the first certificate); trusted now: /etc/forwarder/es-ca.pem. Set elasticsearch.tls.caFile to the PEM file of the CA that signed Elasticsearch's certificate",
    });
    expect(elasticsearchConnectionProblem(new errors.ConnectionError('certificate has expired'), setup(), NOW)?.detail).toBe(
      "Elasticsearch's certificate has expired (certificate has expired): Elasticsearch needs a renewed certificate",
    );
  });

  it('refused credentials: authentication, naming the password file, the API key, or that none is configured', () => {
    expect(elasticsearchConnectionProblem(unauthorized(), setup(), NOW)).toEqual({
      part: 'authentication',
      detail:
        'Elasticsearch refused the credentials (401 security_exception: unable to authenticate user [forwarder] for REST request [/_cluster/health]); check elasticsearch.auth: the password of user "forwarder" in the file /run/secrets/es-password (elasticsearch.auth.passwordFile, read again after each 401)',
    });
    expect(elasticsearchConnectionProblem(unauthorized(), setup({ auth: { username: '', passwordFile: '', apiKey: true } }), NOW)?.detail).toMatch(/the API key in elasticsearch\.auth\.apiKey/);
    expect(elasticsearchConnectionProblem(unauthorized(), setup({ auth: { username: '', passwordFile: '', apiKey: false } }), NOW)?.detail).toMatch(/no credentials are configured/);
  });

  it('http:// to a node that serves HTTPS', () => {
    const problem = elasticsearchConnectionProblem(new errors.ConnectionError('other side closed - Local: 127.0.0.1:53920, Remote: 127.0.0.1:9200'), setup({ nodes: ['http://es.internal:9200'] }), NOW);
    expect(problem?.part).toBe('TLS');
    expect(problem?.detail).toMatch(/^Elasticsearch closed the connection to http:\/\/es\.internal:9200 without an answer: if it serves HTTPS, use https:\/\/ URLs/);
  });

  it('leaves answers about the request itself to the caller', () => {
    const tooMany = new errors.ResponseError({ body: { error: { type: 'es_rejected_execution_exception', reason: 'queue full' } }, statusCode: 429, headers: {}, warnings: null, meta: {} as never });
    expect(elasticsearchConnectionProblem(tooMany, setup(), NOW)).toBeUndefined();
    expect(elasticsearchConnectionProblem(new errors.ConnectionError('connect ECONNREFUSED 127.0.0.1:9200'), setup(), NOW)).toBeUndefined();
  });
});

describe('TLS failures by their words', () => {
  it('finds the failure in a cause chain and quotes OpenSSL\'s alert, not its source position', () => {
    const wrapped = new Error('creating the Kafka topics', { cause: afterRetries(openssl('certificate unknown', 46)) });
    expect(tlsProblem(wrapped)).toEqual({ kind: 'client-certificate-refused', reason: 'sslv3 alert certificate unknown' });
    expect(tlsProblem(new Error('connect ECONNREFUSED 127.0.0.1:9093'))).toBeUndefined();
  });
});

describe('KafkaJS log lines', () => {
  it('a failed connection is a warning without a stack trace: the forwarder waits it out and says why', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
    const { config } = loadConfig({ env: {} });
    const log = kafkaClientConfig(config.kafka, logger).logCreator?.(logLevel.INFO);
    log?.({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { timestamp: '', logger: 'kafkajs', message: 'Connection error: unable to verify the first certificate', stack: 'Error: unable to verify the first certificate\n    at TLSSocket.onConnectSecure (node:_tls_wrap:1699:34)' },
    });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'warn', msg: 'Connection error: unable to verify the first certificate' });
    expect(lines[0]).not.toContain('onConnectSecure');
  });
});

describe('TLS files that cannot be read', () => {
  it('are a configuration error naming the setting and the file, for Kafka and Elasticsearch alike', () => {
    const { config } = loadConfig({ env: {} });
    const missing = '/nonexistent/okta-forwarder/ca.pem';
    const kafka = { ...config.kafka, tls: { ...config.kafka.tls, enabled: true, caFile: missing } };
    expect(() => kafkaClientConfig(kafka)).toThrow(expect.objectContaining({ code: 'OF_CONFIG_UNREADABLE', message: `reading kafka.tls.caFile ${missing}: ENOENT` }));
    const withCertificate = { ...config.kafka, tls: { ...config.kafka.tls, enabled: true, certFile: missing, keyFile: missing } };
    expect(() => kafkaClientConfig(withCertificate)).toThrow(expect.objectContaining({ code: 'OF_CONFIG_UNREADABLE', message: `reading kafka.tls.certFile ${missing}: ENOENT` }));
    const elasticsearch = { ...config.elasticsearch, tls: { ...config.elasticsearch.tls, caFile: missing } };
    expect(() => elasticsearchClientOptions(elasticsearch)).toThrow(expect.objectContaining({ code: 'OF_CONFIG_UNREADABLE', message: `reading elasticsearch.tls.caFile ${missing}: ENOENT` }));
  });
});
