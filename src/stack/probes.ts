import { readFileSync } from 'node:fs';
import { Client } from '@elastic/elasticsearch';
import { Kafka, logLevel } from 'kafkajs';
import { request } from 'undici';
import type { ElasticsearchEndpoint, KafkaEndpoint } from './endpoints.js';

/**
 * Readiness as a client sees it: Kafka answers a metadata request, Elasticsearch reports cluster
 * health yellow or green to an authenticated request, Prometheus answers /-/ready. An open port is
 * not enough.
 */
export async function kafkaReady(endpoint: KafkaEndpoint): Promise<boolean> {
  const { brokers, security } = endpoint;
  const admin = new Kafka({
    clientId: 'okta-forwarder-stack-probe',
    brokers,
    ...(security
      ? { ssl: { ca: [readFileSync(security.caFile, 'utf8')] }, sasl: { mechanism: security.mechanism, username: security.username, password: security.password } }
      : {}),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export function elasticsearchClient(endpoint: ElasticsearchEndpoint): Client {
  return new Client({
    node: endpoint.url,
    ...(endpoint.username ? { auth: { username: endpoint.username, password: endpoint.password } } : {}),
    ...(endpoint.caFile ? { tls: { ca: readFileSync(endpoint.caFile, 'utf8') } } : {}),
    maxRetries: 0,
    requestTimeout: 5000,
  });
}

export async function elasticsearchReady(endpoint: ElasticsearchEndpoint): Promise<boolean> {
  const client = elasticsearchClient(endpoint);
  try {
    const health = await client.cluster.health();
    if (health.status !== 'green' && health.status !== 'yellow') throw new Error(`cluster health is ${health.status}`);
    return true;
  } finally {
    await client.close();
  }
}

export async function prometheusReady(url: string): Promise<boolean> {
  const response = await request(new URL('/-/ready', url), { headersTimeout: 2000, bodyTimeout: 2000 });
  await response.body.dump();
  if (response.statusCode !== 200) throw new Error(`/-/ready answered ${response.statusCode}`);
  return true;
}
