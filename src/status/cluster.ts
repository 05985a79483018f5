import { Kafka, type Admin } from 'kafkajs';
import type { ForwarderConfig } from '../config/index.js';
import { createElasticsearchClient } from '../elasticsearch/client.js';
import { ForwarderError } from '../errors.js';
import { readCheckpoints } from '../kafka/checkpoints.js';
import { kafkaClientConfig } from '../kafka/client.js';
import { consumerGroupLag } from '../kafka/consumer-lag.js';
import { describePollerGroup, ownersOfOrgs } from '../kafka/poller-group.js';
import { elasticsearchStatus, orgStatusFromKafka, sinkStatus, type ClusterStatus, type ElasticsearchStatus } from './report.js';

export interface ClusterStatusOptions {
  staleAfterSeconds: number;
  maxLag: number;
  now?: () => number;
}

/**
 * The deployment's status from Kafka and Elasticsearch alone, so it works with no forwarder
 * running: each org's last checkpoint and the poller group member holding it, the sink group's
 * committed offsets against the ends of the events topic, and Elasticsearch's health and recent
 * documents. Kafka that cannot be reached is an error (nothing can be said); Elasticsearch that
 * cannot be reached is a status.
 */
export async function readClusterStatus(config: ForwarderConfig, options: ClusterStatusOptions): Promise<ClusterStatus> {
  const now = options.now ?? Date.now;
  // A status check answers in seconds: a few short attempts, not the minutes a service waits.
  const kafka = new Kafka({ ...kafkaClientConfig(config.kafka), connectionTimeout: 3000, retry: { retries: 2, initialRetryTime: 300 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = new Set(await admin.listTopics());
    const { topics: names } = config.kafka;
    const checkpoints = topics.has(names.checkpoints) ? await readCheckpoints(kafka, names.checkpoints) : new Map();
    const pollers = await describePollerGroup(admin, config.kafka);
    const slots = topics.has(names.pollers) ? await partitionCount(admin, names.pollers) : 0;
    const orgIds = config.okta.orgs.map((org) => org.id);
    const owners = slots > 0 ? ownersOfOrgs(orgIds, pollers.members, slots) : new Map();
    const partitions = topics.has(names.events) ? await consumerGroupLag(admin, config.kafka.consumerGroup, names.events) : [];
    const { groups } = await admin.describeGroups([config.kafka.consumerGroup]);
    const sinkGroup = groups[0];
    const readAt = new Date(now()).toISOString();
    const elasticsearch = await readElasticsearchStatus(config, orgIds);
    const nowMs = now();
    return {
      checkedAt: new Date(nowMs).toISOString(),
      orgs: orgIds.map((org) =>
        orgStatusFromKafka({ org, checkpoint: checkpoints.get(org), owner: owners.get(org)?.process, nowMs, staleAfterSeconds: options.staleAfterSeconds }),
      ),
      pollerGroup: { group: config.kafka.pollerGroup, state: pollers.state, members: pollers.members.map(({ process, slots: held }) => ({ process, slots: held })) },
      sink: sinkStatus({
        group: config.kafka.consumerGroup,
        groupState: sinkGroup?.state,
        members: sinkGroup?.members.length ?? 0,
        partitions,
        readAt,
        maxLag: options.maxLag,
      }),
      elasticsearch,
    };
  } catch (err) {
    if (err instanceof ForwarderError) throw err;
    throw new ForwarderError('OF_KAFKA_UNREACHABLE', `reading the status from Kafka (${config.kafka.brokers.join(', ')}): ${(err as Error).message}; check kafka.brokers, TLS and SASL (okta-forwarder check)`, {
      retriable: true,
      cause: err,
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function partitionCount(admin: Admin, topic: string): Promise<number> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0]?.partitions.length ?? 0;
}

/**
 * Health, and the documents whose event time is in the last 24 hours, in total and per org,
 * counted exactly with _count (a search's hits.total stops at 10,000). The documents carry no
 * indexing time: during a backfill, documents indexed today with older events are not counted.
 */
async function readElasticsearchStatus(config: ForwarderConfig, orgIds: string[]): Promise<ElasticsearchStatus> {
  let client;
  try {
    client = createElasticsearchClient(config.elasticsearch, { maxRetries: 0, requestTimeout: 5000 });
  } catch (err) {
    return elasticsearchStatus({ error: (err as Error).message });
  }
  try {
    const health = await client.cluster.health();
    const index = `${config.elasticsearch.indexPrefix}-*`;
    const recent = { range: { '@timestamp': { gte: 'now-24h' } } };
    const count = async (filter: object[]) => (await client.count({ index, allow_no_indices: true, ignore_unavailable: true, query: { bool: { filter } } })).count;
    const [total, ...perOrg] = await Promise.all([count([recent]), ...orgIds.map((org) => count([recent, { term: { 'metadata.tenant_uid': org } }]))]);
    return elasticsearchStatus({
      health: health.status,
      clusterName: health.cluster_name,
      documentsLast24h: total ?? 0,
      byOrg: Object.fromEntries(orgIds.map((org, i) => [org, perOrg[i] ?? 0])),
    });
  } catch (err) {
    const meta = (err as { meta?: { statusCode?: number; body?: { error?: { type?: string; reason?: string } } } }).meta;
    const detail = meta?.body?.error ? `${meta.statusCode} ${meta.body.error.type}: ${meta.body.error.reason}` : (err as Error).message;
    return elasticsearchStatus({ error: detail });
  } finally {
    await client.close().catch(() => undefined);
  }
}
