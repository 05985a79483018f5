import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { randomUUID } from 'node:crypto';
import kafkajs, { Partitioners } from 'kafkajs';
import { createSchemaRegistryClient, eventSchemaSubject, type SchemaRegistryClient } from '../../avro/schema-registry.js';
import { loadConfig, type ForwarderConfig, type OrgConfig } from '../../config/index.js';
import { createElasticsearchClient } from '../../elasticsearch/client.js';
import { ForwarderError } from '../../errors.js';
import { certificateValidity, elasticsearchConnectionProblem, kafkaConnectionProblem, type KafkaConnectionSetup } from '../../connection-problems.js';
import { createKafka, kafkaConnectionSetup } from '../../kafka/client.js';
import { scrubSecrets } from '../../logging/secrets.js';
import { topicSpecs } from '../../kafka/topics.js';
import { OktaError } from '../../okta/client.js';
import { oktaClientFor } from '../../poller/run.js';
import type { CommandContext } from '../context.js';

// KafkaJS is CommonJS and Node's ESM loader cannot see this export by name.
const { ConfigResourceTypes } = kafkajs;

interface CheckResult {
  check: string;
  ok: boolean;
  detail: string;
}

/**
 * `okta-forwarder check`: the connector's "Test API". For every org: DNS, TLS and connection,
 * authentication, permission to read the System Log (a limit=1 request) and the rate-limit
 * headroom; then Kafka (TLS and the SASL login when configured, brokers, topics, transactions),
 * the schema registry when one is configured (reachable, credentials, the subject), and
 * Elasticsearch (TLS and credentials when configured, reachable, version). A refused certificate
 * or password is its own row, saying which setting to change (src/connection-problems.ts).
 * One table of passes and failures, each failure with what to do; exit 1 if any failed.
 */
export async function checkCommand(context: CommandContext): Promise<number> {
  const { config } = loadConfig({ file: context.configFile });
  const results: CheckResult[] = [];
  for (const org of config.okta.orgs) results.push(...(await checkOrg(org)));
  results.push(...(await checkKafka(config)));
  results.push(...(await checkSchemaRegistry(config)));
  results.push(...(await checkElasticsearch(config)));
  printTable(results);
  return results.every((result) => result.ok) ? 0 : 1;
}

async function checkOrg(org: OrgConfig): Promise<CheckResult[]> {
  const name = `okta ${org.id}`;
  const host = org.domain.replace(/:\d+$/, '');
  if (!isIP(host)) {
    try {
      const address = await lookup(host);
      void address;
    } catch (err) {
      return [{ check: `${name}: DNS`, ok: false, detail: `${host} does not resolve (${(err as NodeJS.ErrnoException).code}): check okta.orgs[].domain` }];
    }
  }
  const client = oktaClientFor(org);
  try {
    const page = await client.getPage(`${client.origin}/api/v1/logs?limit=1`);
    const results: CheckResult[] = [
      { check: `${name}: connection`, ok: true, detail: `${client.origin} answered${org.allowInsecureHttp ? ' (plain HTTP: simulator only)' : ' over TLS'}` },
      { check: `${name}: authentication`, ok: true, detail: `accepted the ${org.auth.method === 'oauth' ? 'OAuth service app' : 'API token'}` },
      { check: `${name}: System Log permission`, ok: true, detail: `read ${page.events.length} event(s) with limit=1` },
    ];
    const rate = page.rateLimit;
    results.push(
      rate
        ? {
            check: `${name}: rate limit`,
            ok: rate.remaining > 0,
            detail: `${rate.remaining} of ${rate.limit} requests/min left this minute; this forwarder may use ${Math.max(1, Math.floor(rate.limit * org.rateLimitShare))} (rateLimitShare ${org.rateLimitShare})`,
          }
        : { check: `${name}: rate limit`, ok: false, detail: 'no X-Rate-Limit-* headers in the answer: is this really Okta?' },
    );
    return results;
  } catch (err) {
    return [oktaFailure(name, err)];
  } finally {
    await client.close();
  }
}

function oktaFailure(name: string, err: unknown): CheckResult {
  const code = err instanceof ForwarderError ? err.code : undefined;
  const detail = (err as Error).message;
  switch (code) {
    case 'OF_OKTA_UNREACHABLE':
      return { check: `${name}: connection`, ok: false, detail };
    case 'OF_OKTA_UNAUTHORIZED':
    case 'OF_OAUTH_TOKEN':
    case 'OF_SECRET_UNREADABLE':
      return { check: `${name}: authentication`, ok: false, detail };
    case 'OF_OKTA_FORBIDDEN':
      return { check: `${name}: System Log permission`, ok: false, detail };
    case 'OF_OKTA_RATE_LIMITED':
      return { check: `${name}: rate limit`, ok: false, detail: `${detail}; try again after the reset${err instanceof OktaError && err.details.retryAtMs ? ` (${new Date(err.details.retryAtMs).toISOString()})` : ''}` };
    default:
      return { check: `${name}: request`, ok: false, detail };
  }
}

async function checkKafka(config: ForwarderConfig): Promise<CheckResult[]> {
  const setup = kafkaConnectionSetup(config.kafka);
  let kafka;
  try {
    kafka = createKafka({ ...config.kafka });
  } catch (err) {
    // A TLS file or the password file that cannot be read.
    const part = err instanceof ForwarderError && err.code === 'OF_SECRET_UNREADABLE' ? 'authentication' : 'TLS';
    return [{ check: `kafka: ${part}`, ok: false, detail: (err as Error).message }];
  }
  // A refused certificate or password does not get better by retrying: the row comes at once.
  const admin = kafka.admin({ retry: { retries: 1 } });
  const results: CheckResult[] = [];
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    results.push(...kafkaSecurityPasses(config.kafka, setup));
    results.push({ check: 'kafka: brokers', ok: true, detail: `${cluster.brokers.length} broker(s), controller ${cluster.controller}` });
  } catch (err) {
    await admin.disconnect().catch(() => undefined);
    const problem = kafkaConnectionProblem(err, setup);
    return [{ check: `kafka: ${problem.part === 'connection' ? 'brokers' : problem.part}`, ok: false, detail: problem.detail }];
  }
  try {
    const existing = new Set(await admin.listTopics());
    const specs = topicSpecs(config.kafka);
    const missing = specs.filter((spec) => !existing.has(spec.topic)).map((spec) => spec.topic);
    let detail = missing.length === 0 ? `${specs.map((s) => s.topic).join(', ')} exist` : `${missing.join(', ')} missing: the poller creates them at start`;
    let ok = true;
    if (existing.has(config.kafka.topics.checkpoints)) {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: config.kafka.topics.checkpoints, configNames: ['cleanup.policy'] }],
      });
      const policy = described.resources[0]?.configEntries.find((entry) => entry.configName === 'cleanup.policy')?.configValue;
      if (policy && !policy.includes('compact')) {
        ok = false;
        detail = `${config.kafka.topics.checkpoints} has cleanup.policy=${policy}: it must be compacted, or old cursors are deleted (kafka-configs --alter --add-config cleanup.policy=compact)`;
      }
    }
    results.push({ check: 'kafka: topics', ok, detail });
  } catch (err) {
    results.push({ check: 'kafka: topics', ok: false, detail: `${(err as Error).message}: the client needs Describe and Create on the topics` });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const producer = kafka.producer({ transactionalId: `${config.kafka.clientId}-check-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  try {
    await producer.connect();
    const transaction = await producer.transaction();
    await transaction.abort();
    results.push({ check: 'kafka: transactions', ok: true, detail: 'a transactional producer initialized' });
  } catch (err) {
    results.push({
      check: 'kafka: transactions',
      ok: false,
      detail: `${(err as Error).message}: the brokers need transactions (transaction.state.log.* settings) and the client Write on its transactional ids`,
    });
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  return results;
}

/** The rows of the TLS and SASL settings in use, once the brokers accepted them. */
function kafkaSecurityPasses(kafka: ForwarderConfig['kafka'], setup: KafkaConnectionSetup): CheckResult[] {
  const results: CheckResult[] = [];
  if (kafka.tls.enabled) {
    const verified = kafka.tls.rejectUnauthorized
      ? `the brokers' certificate verified against ${kafka.tls.caFile || "the system's CAs"}`
      : "the brokers' certificate NOT verified (kafka.tls.rejectUnauthorized is off: test clusters only)";
    const certificate = setup.clientCertificate;
    const validity = certificate ? certificateValidity(certificate, new Date()) : undefined;
    const client = certificate
      ? `client certificate ${certificate.subject}, valid until ${certificate.validTo.toISOString()}${validity ? ` (but ${validity}: a broker that requires it will refuse it)` : ''}`
      : 'no client certificate';
    results.push({ check: 'kafka: TLS', ok: true, detail: `${verified}; ${client}` });
  }
  if (kafka.sasl.mechanism !== 'none') {
    results.push({ check: 'kafka: authentication', ok: true, detail: `the brokers accepted the ${kafka.sasl.mechanism.toUpperCase()} login of user "${kafka.sasl.username}"` });
  }
  return results;
}

/** With a registry configured: reachable, credentials accepted, and what the subject holds. */
async function checkSchemaRegistry(config: ForwarderConfig): Promise<CheckResult[]> {
  if (config.schemaRegistry.url === '') return [];
  const check = 'schema registry';
  let client: SchemaRegistryClient | undefined;
  try {
    client = createSchemaRegistryClient(config) as SchemaRegistryClient;
    const subject = eventSchemaSubject(config);
    const latest = await client.latestVersion(subject);
    const holds = latest ? `holds version ${latest.version} (schema id ${latest.id})` : 'holds no schema yet; the poller registers it at start';
    return [{ check, ok: true, detail: `${client.url} answered: subject ${subject} ${holds}` }];
  } catch (err) {
    return [{ check, ok: false, detail: (err as Error).message }];
  } finally {
    await client?.close();
  }
}

async function checkElasticsearch(config: ForwarderConfig): Promise<CheckResult[]> {
  let client;
  try {
    client = createElasticsearchClient(config.elasticsearch);
  } catch (err) {
    return [{ check: 'elasticsearch', ok: false, detail: (err as Error).message }];
  }
  try {
    // GET / is not served by every distribution; the nodes API is.
    const nodes = await client.nodes.info({ node_id: '_local', metric: '_none' } as never);
    const version = Object.values((nodes as { nodes: Record<string, { version: string }> }).nodes)[0]?.version ?? 'unknown';
    const health = await client.cluster.health();
    const major = Number(version.split('.')[0]);
    return [
      ...elasticsearchSecurityPasses(config.elasticsearch),
      { check: 'elasticsearch: reachable', ok: true, detail: `cluster ${health.cluster_name} is ${health.status}` },
      { check: 'elasticsearch: version', ok: major === 8, detail: major === 8 ? `Elasticsearch ${version}` : `Elasticsearch ${version}: this forwarder's client is 8.x and needs an 8.x server` },
    ];
  } catch (err) {
    const problem = elasticsearchConnectionProblem(err, {
      nodes: config.elasticsearch.nodes,
      caFile: config.elasticsearch.tls.caFile,
      auth: { username: config.elasticsearch.auth.username, passwordFile: config.elasticsearch.auth.passwordFile, apiKey: usesApiKey(config.elasticsearch) },
    });
    if (problem) return [{ check: `elasticsearch: ${problem.part === 'connection' ? 'reachable' : problem.part}`, ok: false, detail: problem.detail }];
    const meta = (err as { meta?: { statusCode?: number; body?: { error?: { type?: string; reason?: string } } } }).meta;
    const status = meta?.statusCode;
    const reason = meta?.body?.error ? `${status} ${meta.body.error.type}: ${meta.body.error.reason}` : (err as Error).message;
    const hint = status === 401 ? 'check elasticsearch.auth' : status === 403 ? 'the user lacks the cluster monitor privilege' : 'check elasticsearch.nodes and TLS';
    return [{ check: 'elasticsearch: reachable', ok: false, detail: `${reason}; ${hint}` }];
  } finally {
    await client.close();
  }
}

function usesApiKey(es: ForwarderConfig['elasticsearch']): boolean {
  return es.auth.apiKey !== '' || es.auth.apiKeyFile !== '';
}

/** The rows of the TLS and credentials in use, once Elasticsearch answered. */
function elasticsearchSecurityPasses(es: ForwarderConfig['elasticsearch']): CheckResult[] {
  const results: CheckResult[] = [];
  if (es.nodes.some((node) => node.startsWith('https:'))) {
    const verified = es.tls.rejectUnauthorized
      ? `Elasticsearch's certificate verified against ${es.tls.caFile || "the system's CAs"}`
      : "Elasticsearch's certificate NOT verified (elasticsearch.tls.rejectUnauthorized is off: test clusters only)";
    results.push({ check: 'elasticsearch: TLS', ok: true, detail: verified });
  }
  if (usesApiKey(es) || es.auth.username !== '') {
    results.push({ check: 'elasticsearch: authentication', ok: true, detail: usesApiKey(es) ? 'the API key was accepted' : `user "${es.auth.username}" was accepted` });
  }
  return results;
}

/** The rows quote what servers answered (an error page may echo the request's credentials): each is scrubbed. */
function printTable(results: CheckResult[]): void {
  const width = Math.max(...results.map((r) => r.check.length), 10);
  const lines = results.map((r) => scrubSecrets(`${r.ok ? 'PASS' : 'FAIL'}  ${r.check.padEnd(width)}  ${r.detail.replace(/\s+/g, ' ')}`));
  const failed = results.filter((r) => !r.ok).length;
  process.stdout.write(`${lines.join('\n')}\n\n${results.length - failed} of ${results.length} checks passed\n`);
}
