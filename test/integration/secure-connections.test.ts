import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { logSummary, runCli, spawnCli, type CliProcess, type CliResult } from '../support/cli.js';
import { writeTestConfig, type TestOrg } from '../support/forwarder.js';
import { freePorts } from '../support/net.js';
import { SECURE_STACK_PASSWORDS, startSecureStack, type SecureStack } from '../support/secure-stack.js';
import { tempDir } from '../support/temp.js';
import { uniqueName, waitFor } from '../support/wait.js';

/**
 * Poll, sink and check against a Kafka that takes only SASL_SSL (SCRAM-SHA-512), on one listener
 * also only with a client certificate, and an Elasticsearch that serves only HTTPS: the secure
 * local stack (src/stack, `npm run stack -- up --secure`), started once for this file. Each
 * misconfiguration an operator makes gives its own `check` row with what to change, and a poll or
 * sink that meets it waits, saying why on /readyz, without a stack trace and without a secret.
 */

let stack: SecureStack;
let sim: SimulatorHandle;
const TOKEN = uniqueName('secure-token');

beforeAll(async () => {
  stack = await startSecureStack();
  sim = await startSimulator({ apiTokens: [TOKEN], rateLimitPerMinute: Infinity });
}, 300_000);

afterAll(async () => {
  await sim?.close();
  await stack?.remove();
});

interface SecureOptions {
  /** Connect to the listener that requires a client certificate, with this one (default: the stack's). */
  mtls?: { certFile: string; keyFile: string } | 'no certificate';
  kafkaCaFile?: string;
  kafkaPassword?: string;
  brokers?: string[];
  elasticsearchCaFile?: string;
  elasticPassword?: string;
  metricsPort?: number;
  orgs?: TestOrg[];
  indexPrefix?: string;
}

/** A configuration for the secure stack, passwords in files (as in production); what `options` names is changed. */
function secureConfig(options: SecureOptions = {}) {
  const secrets = tempDir('okta-forwarder-secure-secrets-');
  const kafkaPasswordFile = join(secrets, 'kafka-password');
  const elasticPasswordFile = join(secrets, 'elastic-password');
  writeFileSync(kafkaPasswordFile, `${options.kafkaPassword ?? SECURE_STACK_PASSWORDS.kafka}\n`);
  writeFileSync(elasticPasswordFile, `${options.elasticPassword ?? SECURE_STACK_PASSWORDS.elastic}\n`);
  const security = stack.kafka.security;
  const mtls = options.mtls === undefined || options.mtls === 'no certificate' ? undefined : options.mtls;
  const written = writeTestConfig(options.orgs ?? [], {
    ...(options.metricsPort ? { metricsPort: options.metricsPort } : {}),
    kafka: {
      brokers: options.brokers ?? (options.mtls ? security.mtlsBrokers : stack.kafka.brokers),
      tls: { enabled: true, caFile: options.kafkaCaFile ?? security.caFile, ...(mtls ? { certFile: mtls.certFile, keyFile: mtls.keyFile } : {}) },
      sasl: { mechanism: 'scram-sha-512', username: security.username, passwordFile: kafkaPasswordFile },
    },
    elasticsearch: {
      nodes: [stack.elasticsearch.url],
      tls: { caFile: options.elasticsearchCaFile ?? stack.elasticsearch.caFile },
      auth: { username: stack.elasticsearch.username, passwordFile: elasticPasswordFile },
      indexPrefix: options.indexPrefix ?? uniqueName('it-secure'),
    },
  });
  return { ...written, kafkaPasswordFile, elasticPasswordFile };
}

function stackClientCertificate() {
  return { certFile: stack.kafka.security.clientCertFile, keyFile: stack.kafka.security.clientKeyFile };
}

/** The row of `check`'s table for `name`, or undefined. */
function row(result: CliResult, name: string): { status: string; detail: string } | undefined {
  const line = result.stdout.split('\n').find((text) => text.slice(6).startsWith(`${name} `));
  if (!line) return undefined;
  return { status: line.slice(0, 4), detail: line.slice(6 + name.length).trim() };
}

/** Neither password of the stack nor a wrong one a test tried, nor a stack trace, in anything printed. */
function expectCleanOutput(text: string, wrongPasswords: string[] = []): void {
  for (const secret of [SECURE_STACK_PASSWORDS.kafka, SECURE_STACK_PASSWORDS.elastic, ...wrongPasswords]) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

async function readyz(port: number): Promise<{ status: number; body: { waitingFor?: Record<string, string> } } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    return { status: response.status, body: (await response.json()) as { waitingFor?: Record<string, string> } };
  } catch {
    return undefined;
  }
}

function elasticsearchClient(): Client {
  return new Client({
    node: stack.elasticsearch.url,
    auth: { username: stack.elasticsearch.username, password: SECURE_STACK_PASSWORDS.elastic },
    tls: { ca: readFileSync(stack.elasticsearch.caFile, 'utf8') },
  });
}

describe('secured connections: Kafka SASL_SSL (SCRAM-SHA-512, mutual TLS) and Elasticsearch HTTPS', () => {
  it('check passes every row over SASL_SSL and HTTPS, and over the listener that requires a client certificate', async () => {
    const plain = secureConfig();
    const mtls = secureConfig({ mtls: stackClientCertificate() });
    const [overSasl, overMtls] = await Promise.all([runCli(['check', '--config', plain.file]), runCli(['check', '--config', mtls.file])]);
    for (const result of [overSasl, overMtls]) {
      expect(result.code, result.stdout + result.stderr).toBe(0);
      for (const name of ['kafka: TLS', 'kafka: authentication', 'kafka: brokers', 'kafka: topics', 'kafka: transactions', 'elasticsearch: TLS', 'elasticsearch: authentication', 'elasticsearch: reachable', 'elasticsearch: version']) {
        expect(row(result, name)?.status, `${name} in\n${result.stdout}`).toBe('PASS');
      }
      expect(row(result, 'kafka: TLS')?.detail).toContain(`verified against ${stack.kafka.security.caFile}`);
      expect(row(result, 'kafka: authentication')?.detail).toBe('the brokers accepted the SCRAM-SHA-512 login of user "okta-forwarder"');
      expect(row(result, 'elasticsearch: TLS')?.detail).toContain(`verified against ${stack.elasticsearch.caFile}`);
      expectCleanOutput(result.stdout + result.stderr);
    }
    expect(row(overSasl, 'kafka: TLS')?.detail).toContain('no client certificate');
    expect(row(overMtls, 'kafka: TLS')?.detail).toMatch(/client certificate CN=okta-forwarder, valid until \d{4}-/);
  });

  it('poll and sink move events end to end over SASL_SSL with mutual TLS and over HTTPS', async () => {
    sim.generate(300, { from: Date.now() - 86_400_000, to: Date.now() - 1000 });
    const [pollPort, sinkPort] = (await freePorts(2)) as [number, number];
    const indexPrefix = uniqueName('it-secure-e2e');
    const orgs = [{ id: 'acme', domain: sim.domain, token: TOKEN }];
    const poll = secureConfig({ mtls: stackClientCertificate(), orgs, metricsPort: pollPort, indexPrefix });
    // The sink reads what the poller wrote: the same topics, on the same listener.
    const sinkConfig = join(poll.dir, 'sink.json');
    writeFileSync(sinkConfig, JSON.stringify({ ...JSON.parse(readFileSync(poll.file, 'utf8')), metrics: { host: '127.0.0.1', port: sinkPort } }));
    const poller = spawnCli(['poll', '--config', poll.file]);
    const sink = spawnCli(['sink', '--config', sinkConfig]);
    const client = elasticsearchClient();
    try {
      await waitFor(
        async () => {
          await client.indices.refresh({ index: `${indexPrefix}-*`, allow_no_indices: true, ignore_unavailable: true });
          return (await client.count({ index: `${indexPrefix}-*`, allow_no_indices: true, ignore_unavailable: true })).count >= 300;
        },
        () => `300 documents indexed; poll:\n${logSummary(poller.output())}\nsink:\n${logSummary(sink.output())}`,
        90_000,
        500,
      );
      expect((await readyz(pollPort))?.status).toBe(200);
      expect((await readyz(sinkPort))?.status).toBe(200);
      expectCleanOutput(poller.output() + sink.output());
    } finally {
      await client.close();
    }
  });

  it('check gives each misconfiguration its own row with what to change, and exits 1', async () => {
    const wrong = { kafka: uniqueName('wrong-scram'), elastic: uniqueName('wrong-elastic') };
    const [port] = stack.kafka.brokers[0]!.split(':').slice(-1);
    const cases = {
      'a CA that signed neither certificate': secureConfig({ kafkaCaFile: stack.otherCa.certFile, elasticsearchCaFile: stack.otherCa.certFile }),
      'wrong passwords': secureConfig({ kafkaPassword: wrong.kafka, elasticPassword: wrong.elastic }),
      'an expired client certificate': secureConfig({ mtls: stack.expiredClient }),
      'a client certificate of another CA': secureConfig({ mtls: stack.foreignClient }),
      'no client certificate': secureConfig({ mtls: 'no certificate' }),
      // 127.1 is 127.0.0.1, but not a name the broker's certificate lists.
      'a broker address the certificate does not list': secureConfig({ brokers: [`127.1:${port}`] }),
    };
    const results = Object.fromEntries(
      await Promise.all(Object.entries(cases).map(async ([name, setup]) => [name, await runCli(['check', '--config', setup.file])] as const)),
    );
    const expectations: Record<keyof typeof cases, [string, RegExp][]> = {
      'a CA that signed neither certificate': [
        ['kafka: TLS', /^the brokers' certificate is not signed by a CA this client trusts \(unable to verify the first certificate\); trusted now: .*other-ca\/ca\.pem\. Set kafka\.tls\.caFile to the PEM file of the CA/],
        ['elasticsearch: TLS', /^Elasticsearch's certificate is not signed by a CA this client trusts .*Set elasticsearch\.tls\.caFile/],
      ],
      'wrong passwords': [
        ['kafka: authentication', /^the brokers refused the SCRAM-SHA-512 login of user "okta-forwarder" \(.*invalid credentials.*\): check the password in the file .*kafka-password \(kafka\.sasl\.passwordFile/],
        ['elasticsearch: authentication', /^Elasticsearch refused the credentials \(401 security_exception: .*\); check elasticsearch\.auth: the password of user "elastic" in the file .*elastic-password/],
      ],
      'an expired client certificate': [['kafka: TLS', /^the brokers refused the client certificate .*expired-client\.pem \(.*\): it expired on 2020-01-31T00:00:00\.000Z: renew it$/]],
      'a client certificate of another CA': [['kafka: TLS', /^the brokers refused the client certificate .*foreign-client\.pem \(subject CN=foreign-client, issued by CN=a CA nobody here trusts; .*\): it must be signed by a CA that the brokers trust$/]],
      'no client certificate': [['kafka: TLS', /^the brokers require a client certificate \(mutual TLS\) and none is configured \(.*\): set kafka\.tls\.certFile and kafka\.tls\.keyFile$/]],
      'a broker address the certificate does not list': [['kafka: TLS', /^the brokers' certificate is not issued for the address connected to \(.*127\.1.*\): connect to a name the certificate lists \(kafka\.brokers\)/]],
    };
    for (const [name, rows] of Object.entries(expectations)) {
      const result = results[name] as CliResult;
      expect(result.code, `${name}:\n${result.stdout}${result.stderr}`).toBe(1);
      for (const [check, detail] of rows) {
        expect(row(result, check)?.status, `${name}: ${check} in\n${result.stdout}`).toBe('FAIL');
        expect(row(result, check)?.detail, name).toMatch(detail);
      }
      // The other service's rows still pass: one misconfiguration, one failing part.
      if (!rows.some(([check]) => check.startsWith('elasticsearch'))) expect(row(result, 'elasticsearch: reachable')?.status, name).toBe('PASS');
      expectCleanOutput(result.stdout + result.stderr, [wrong.kafka, wrong.elastic]);
    }
  });

  it('poll and sink wait for a refused certificate or password, say why on /readyz, and go on once the password file is fixed', async () => {
    const wrong = uniqueName('wrong-scram');
    const ports = (await freePorts(4)) as [number, number, number, number];
    const orgs = [{ id: 'acme', domain: sim.domain, token: TOKEN }];
    const wrongPassword = secureConfig({ kafkaPassword: wrong, metricsPort: ports[0] });
    const processes: Record<string, { process: CliProcess; port: number; waitsFor: string; reason: RegExp }> = {
      'sink with a wrong SCRAM password': {
        process: spawnCli(['sink', '--config', wrongPassword.file]),
        port: ports[0],
        waitsFor: 'Kafka',
        reason: /^creating the Kafka topics: connecting to Kafka: authentication: the brokers refused the SCRAM-SHA-512 login of user "okta-forwarder"/,
      },
      'poll trusting another CA': {
        process: spawnCli(['poll', '--config', secureConfig({ orgs, kafkaCaFile: stack.otherCa.certFile, metricsPort: ports[1] }).file]),
        port: ports[1],
        waitsFor: 'Kafka',
        reason: /^creating the Kafka topics: connecting to Kafka: TLS: the brokers' certificate is not signed by a CA this client trusts/,
      },
      'poll with an expired client certificate': {
        process: spawnCli(['poll', '--config', secureConfig({ orgs, mtls: stack.expiredClient, metricsPort: ports[2] }).file]),
        port: ports[2],
        waitsFor: 'Kafka',
        reason: /^creating the Kafka topics: connecting to Kafka: TLS: the brokers refused the client certificate .*: it expired on 2020-01-31/,
      },
      'sink trusting another CA for Elasticsearch': {
        process: spawnCli(['sink', '--config', secureConfig({ elasticsearchCaFile: stack.otherCa.certFile, metricsPort: ports[3] }).file]),
        port: ports[3],
        waitsFor: 'Elasticsearch',
        reason: /^installing the index template: connecting to Elasticsearch: TLS: Elasticsearch's certificate is not signed by a CA this client trusts/,
      },
    };
    await Promise.all(
      Object.entries(processes).map(async ([name, { process, port, waitsFor, reason }]) => {
        const ready = await waitFor(
          async () => {
            const answer = await readyz(port);
            return answer?.body.waitingFor?.[waitsFor] !== undefined ? answer : undefined;
          },
          () => `${name}: /readyz saying it waits for ${waitsFor}; output:\n${logSummary(process.output())}`,
          90_000,
          500,
        );
        expect(ready.status, name).toBe(503);
        expect(ready.body.waitingFor?.[waitsFor], name).toMatch(reason);
        expect(process.running(), name).toBe(true);
      }),
    );
    for (const [name, { process }] of Object.entries(processes)) {
      expect(process.output(), name).toMatch(/"level":"warn".*"msg":"waiting for (Kafka|Elasticsearch): /);
      expectCleanOutput(process.output(), [wrong]);
    }
    // The password file is read again at each connection: fixed, the sink starts without a restart.
    writeFileSync(wrongPassword.kafkaPasswordFile, `${SECURE_STACK_PASSWORDS.kafka}\n`);
    const sink = processes['sink with a wrong SCRAM password'] as { process: CliProcess; port: number };
    await waitFor(async () => (await readyz(sink.port))?.status === 200, () => `the sink ready once its password file is fixed; output:\n${logSummary(sink.process.output())}`, 90_000, 500);
  });
});
