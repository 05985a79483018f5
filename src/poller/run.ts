import type { Kafka } from 'kafkajs';
import { publishingCodecOptions } from '../avro/schema-registry.js';
import type { ForwarderConfig, OrgConfig } from '../config/index.js';
import { SecretFileWatcher } from '../config/secrets.js';
import { KafkaCheckpointStore } from '../kafka/checkpoint-store.js';
import { thisProcess } from '../kafka/poller-group.js';
import { PagePublisher } from '../kafka/publisher.js';
import { readToEnd } from '../kafka/read-to-end.js';
import { createTopics } from '../kafka/topics.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/registry.js';
import { untilAvailable, type WaitingListener } from '../retry.js';
import { ApiTokenAuthenticator, type Authenticator } from '../okta/auth.js';
import { OktaClient } from '../okta/client.js';
import { OAuthAuthenticator } from '../okta/oauth.js';
import { PageEncoder } from './page-encoder.js';
import { PageSlots } from './page-slots.js';
import { OrgAssignment } from './org-assignment.js';
import { OrgPoller, type OrgPollerOptions, type PollerHandle } from './poller.js';
import type { BackfillProgress } from './progress.js';
import { PollerTelemetry } from './telemetry.js';

/** Pages read ahead at once across the process's orgs (see PageSlots). */
const PAGES_READ_AHEAD_PER_PROCESS = 4;

export function authenticatorFor(org: OrgConfig, origin: string): Authenticator {
  if (org.auth.method === 'oauth') {
    return new OAuthAuthenticator({
      baseUrl: origin,
      clientId: org.auth.clientId,
      privateKeyFile: org.auth.privateKeyFile,
      ...(org.auth.keyId ? { keyId: org.auth.keyId } : {}),
      dpop: org.auth.dpop,
    });
  }
  return new ApiTokenAuthenticator({ tokenEnv: org.auth.tokenEnv, tokenFile: org.auth.tokenFile });
}

export function oktaClientFor(org: OrgConfig): OktaClient {
  const origin = `${org.allowInsecureHttp ? 'http' : 'https'}://${org.domain}`;
  return new OktaClient({ domain: org.domain, allowInsecureHttp: org.allowInsecureHttp, authenticator: authenticatorFor(org, origin) });
}

export function transactionalIdFor(config: ForwarderConfig, org: OrgConfig): string {
  return `${config.kafka.clientId}-${org.id}`;
}

export interface RunningPollers {
  /** The pollers running in this process now, by org: orgs come and go as the poller group assigns them. */
  handles: Map<string, PollerHandle>;
  /**
   * Settles when every poller stopped. Sharing the orgs through the group, it rejects only when
   * the group cannot be joined again; polling every org, with the first poller that could not go
   * on (fenced by another instance).
   */
  done: Promise<void>;
  stop(): Promise<void>;
  /** What keeps this process from polling its share of the orgs besides its pollers' own waits (out of the poller group). */
  waitingFor?(): string | undefined;
}

/**
 * Which orgs this process polls: the share the poller group gives it (`group`, what `poll` and
 * `run` do: several processes with one configuration share its orgs), or every configured org
 * regardless of any other process (`every-org`: tests of the poller itself, and of what fencing
 * does when two processes poll one org).
 */
export type OrgAssignmentMode = 'group' | 'every-org';

/**
 * Starts the pollers of this process, each org with its own Okta client, cursor, rate budget,
 * transactional producer, state and metric labels. Creates the topics first.
 */
export async function startPollers(options: {
  config: ForwarderConfig;
  kafka: Kafka;
  logger: Logger;
  metrics: Metrics;
  /** Default `group`. */
  assignment?: OrgAssignmentMode;
  onProgress?: (org: string, progress: BackfillProgress) => void;
  overrides?: Partial<Pick<OrgPollerOptions, 'retry' | 'limit' | 'recoveryOverlapMs' | 'progressIntervalMs'>>;
  /** Ends the waits for Kafka or the schema registry below (SIGTERM while starting). */
  signal?: AbortSignal;
  /** Hears what the start waits for. */
  onWaiting?: WaitingListener;
}): Promise<RunningPollers> {
  const { config, kafka, logger, metrics } = options;
  const waitOptions = { ...(options.signal ? { signal: options.signal } : {}), ...(options.onWaiting ? { onWaiting: options.onWaiting } : {}) };
  await untilAvailable('Kafka', 'creating the Kafka topics', () => createTopics(kafka, config, logger), waitOptions);
  // Single-object encoding, or with a schema registry the Confluent wire format with the id of the
  // current schema, registered here before any page is read.
  // Pages are parsed and encoded on a worker thread.
  const encoder = new PageEncoder(await untilAvailable('the schema registry', 'registering the event schema', () => publishingCodecOptions(config, logger), waitOptions));
  // Four pages read ahead at once keep the one encoder thread busy for any number of orgs.
  const pageSlots = new PageSlots(PAGES_READ_AHEAD_PER_PROCESS);
  const checkpoints = new KafkaCheckpointStore(kafka, config.kafka.topics.checkpoints);
  const owner = thisProcess();
  // What an org needs across its pollers here (it may be given up and taken again): one Okta
  // client, secret watcher and telemetry (its metric hooks register once).
  const orgs = new Map<string, { client: OktaClient; secrets: SecretFileWatcher; telemetry: PollerTelemetry }>();
  const resourcesOf = (org: OrgConfig) => {
    let resources = orgs.get(org.id);
    if (!resources) {
      const client = oktaClientFor(org);
      resources = { client, secrets: new SecretFileWatcher(client.secretFiles), telemetry: new PollerTelemetry(org.id, logger, metrics) };
      orgs.set(org.id, resources);
    }
    return resources;
  };
  const startOrg = (orgId: string): PollerHandle => {
    const org = config.okta.orgs.find((candidate) => candidate.id === orgId) as OrgConfig;
    const { client, secrets, telemetry } = resourcesOf(org);
    const poller = new OrgPoller({
      org,
      source: {
        pollingUrl: (since, limit) => client.pollingUrl(since, limit),
        getPage: (url, onCounted) =>
          client.getPage(url, (body, { contentType, nextUrl, rateLimit }) => encoder.encode(body, contentType, (items) => onCounted?.({ items, nextUrl, rateLimit }))),
        credentialsChanged: () => secrets.changed(),
      },
      sink: new PagePublisher(kafka, {
        org: org.id,
        transactionalId: transactionalIdFor(config, org),
        eventsTopic: config.kafka.topics.events,
        checkpointsTopic: config.kafka.topics.checkpoints,
        deadLetterTopic: config.kafka.topics.deadLetter,
      }),
      loadCheckpoint: () => checkpoints.get(org.id),
      publishedUuidsSince: (sinceMs) => publishedUuidsSince(kafka, config.kafka.topics.events, org.id, sinceMs),
      telemetry,
      owner,
      pageSlots,
      ...(options.onProgress ? { onProgress: (progress: BackfillProgress) => options.onProgress?.(org.id, progress) } : {}),
      ...options.overrides,
    });
    return poller.start();
  };
  const closeAll = async () => {
    await Promise.all([...orgs.values()].map(({ client }) => client.close()));
    for (const { secrets } of orgs.values()) secrets.close();
    await encoder.close();
  };

  if (options.assignment === 'every-org') {
    const handles = new Map(config.okta.orgs.map((org) => [org.id, startOrg(org.id)]));
    const all = [...handles.values()];
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        await Promise.all(all.map((handle) => handle.stop()));
        await closeAll();
      })());
    return { handles, done: Promise.all(all.map((handle) => handle.done)).then(() => undefined), stop };
  }

  const group = new OrgAssignment({
    config,
    kafka,
    logger,
    metrics,
    startOrg,
    ownedChanged: (org, owned) => orgs.get(org)?.telemetry.owned(owned),
    ...waitOptions,
  });
  await group.start();
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await group.stop();
      await closeAll();
    })());
  return { handles: group.handles, done: group.done, stop, waitingFor: () => group.waitingFor() };
}

/**
 * Uuids of one org's events in the events topic whose `published` header is at or after
 * `sinceMs`. Events are produced after Okta published them, so reading from that produce time
 * on finds them all; keys and headers are enough, no record is decoded.
 */
export async function publishedUuidsSince(kafka: Kafka, topic: string, org: string, sinceMs: number): Promise<Set<string>> {
  const uuids = new Set<string>();
  await readToEnd(
    kafka,
    topic,
    (message) => {
      if (message.headers?.org?.toString() !== org || !message.key) return;
      const published = Date.parse(message.headers.published?.toString() ?? '');
      if (!Number.isFinite(published) || published >= sinceMs) uuids.add(message.key.toString());
    },
    { fromTimestampMs: sinceMs, groupPrefix: 'okta-forwarder-recovery' },
  );
  return uuids;
}
