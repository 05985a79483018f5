import { EXIT_NEEDS_ATTENTION } from '../cli/exit-codes.js';
import { formatDuration } from '../cli/terminal.js';
import type { Checkpoint } from '../kafka/checkpoints.js';
import type { PartitionLag } from '../kafka/consumer-lag.js';
import type { PollerStats } from '../poller/poller.js';
import { WHAT_TO_DO, WORKING_STATES, type ConnectorState } from '../poller/state.js';

/**
 * What `status` and `/status` say of each org, the sink and Elasticsearch: the connector page's
 * "Connected" column. A running process knows its own pollers' states; the `status` command,
 * which works with no forwarder running, derives them from Kafka (checkpoints, the poller group)
 * and says so. Every state other than a working one carries its reason and what to do, and
 * `attention` marks what makes `status` exit non-zero.
 */
export interface OrgStatus {
  org: string;
  /** A connector state (from the process), or one derived from Kafka: `no owner`, `not started`, `starting`, `stale`. */
  state: string;
  /** When the state began (process); from Kafka alone, when the last checkpoint was committed. */
  since: string | undefined;
  /** The process polling it ("host/pid"); undefined: no poller holds it. */
  owner: string | undefined;
  /** Newest `published` time of the events in Kafka. */
  newestEvent: string | undefined;
  /** Seconds from the newest event to now. */
  pollLagSeconds: number | undefined;
  events: number | undefined;
  backfill: { ratio: number; etaSeconds: number | undefined; caughtUp: boolean } | undefined;
  /** Share of the org's rate limit used in the current window (0..1), and the configured share; the process knows it, Kafka does not. */
  rateLimit: { shareUsed: number; share: number } | undefined;
  reason: string | undefined;
  whatToDo: string | undefined;
  attention: boolean;
}

/** Where the sink stands, from its group's committed offsets. */
export interface SinkStatus {
  group: string;
  /** The group's state as the coordinator says (Stable, Empty, …); undefined in a process's own view. */
  groupState: string | undefined;
  members: number | undefined;
  partitions: PartitionLag[];
  /** When the offsets were read: now for `status`; a process reads them every 10 s. */
  readAt: string | undefined;
  totalLag: number;
  reason: string | undefined;
  whatToDo: string | undefined;
  attention: boolean;
}

export interface ElasticsearchStatus {
  /** green, yellow, red (cluster health), unreachable; in a process: indexing or waiting. */
  state: string;
  detail: string;
  /** Documents whose event time is in the last 24 hours, counted exactly; undefined when not counted. */
  documentsLast24h: number | undefined;
  documentsLast24hByOrg: Record<string, number> | undefined;
  whatToDo: string | undefined;
  attention: boolean;
}

/** `okta-forwarder status`: the whole deployment, from Kafka and Elasticsearch. */
export interface ClusterStatus {
  checkedAt: string;
  orgs: OrgStatus[];
  pollerGroup: { group: string; state: string; members: { process: string; slots: number[] }[] };
  sink: SinkStatus;
  elasticsearch: ElasticsearchStatus;
}

/** A checkpoint older than this while a poller holds the org: `stale` (a quiet org looks the same). */
export const DEFAULT_STALE_AFTER_SECONDS = 3600;
/** Records behind on one partition beyond which the sink needs attention. */
export const DEFAULT_MAX_LAG = 10_000;
/** A checkpoint whose newest event is further behind its commit than this was written reading history. */
const BACKFILL_GAP_MS = 10 * 60_000;

const START_A_POLLER = 'start `okta-forwarder poll` (or `run`) with this org in its configuration; Okta keeps 90 days, nothing is lost until then';

/** An org as a running poller sees it (the process's /status). */
export function orgStatusFromPoller(stats: PollerStats, options: { owner: string; rateLimitShare: number; nowMs: number }): OrgStatus {
  const working = WORKING_STATES.has(stats.state as ConnectorState);
  const waiting = stats.waitingFor !== undefined;
  let whatToDo: string | undefined;
  if (waiting) whatToDo = 'check the Kafka brokers: the poller waits for them and commits nothing meanwhile';
  else if (stats.state === 'starting') whatToDo = 'nothing: reading the last checkpoint before the first page';
  else if (stats.state === 'stopped') whatToDo = 'the poller stopped: this process no longer polls the org';
  else if (!working) whatToDo = WHAT_TO_DO[stats.state as ConnectorState];
  const progress = stats.progress;
  return {
    org: stats.org,
    state: stats.state,
    since: stats.stateSince,
    owner: options.owner,
    newestEvent: stats.lastPublished,
    pollLagSeconds: lagSeconds(stats.lastPublished, options.nowMs),
    events: stats.events,
    backfill: progress ? { ratio: progress.ratio, etaSeconds: progress.etaSeconds, caughtUp: progress.caughtUp } : undefined,
    rateLimit: { shareUsed: stats.rateLimitShareUsed, share: options.rateLimitShare },
    reason: waiting ? stats.waitingFor : stats.reason,
    whatToDo,
    attention: waiting || stats.state === 'stopped' || (stats.state !== 'starting' && !working),
  };
}

/**
 * An org as Kafka alone shows it: its last checkpoint and the member of the poller group holding
 * its slot. Without the process, the connector state itself (unauthorized, rate limited, …) is
 * not known: a held org whose checkpoints stopped is `stale`, and its process's /status says why.
 */
export function orgStatusFromKafka(input: { org: string; checkpoint: Checkpoint | undefined; owner: string | undefined; nowMs: number; staleAfterSeconds: number }): OrgStatus {
  const { org, owner, nowMs } = input;
  // A checkpoint is JSON anyone with write access to the topic could have written: only well-typed fields are shown.
  const checkpoint = input.checkpoint ? wellTyped(input.checkpoint) : undefined;
  const committedMs = timeOf(checkpoint?.committedAt);
  const base = {
    org,
    since: checkpoint?.committedAt,
    owner,
    newestEvent: checkpoint?.lastPublished,
    pollLagSeconds: lagSeconds(checkpoint?.lastPublished, nowMs),
    events: checkpoint?.events,
    backfill: checkpoint ? backfillFromCheckpoint(checkpoint) : undefined,
    rateLimit: undefined,
  };
  if (!checkpoint && owner === undefined) {
    return { ...base, state: 'not started', reason: 'no checkpoint in Kafka and no poller holds it', whatToDo: START_A_POLLER, attention: true };
  }
  if (owner === undefined) {
    return { ...base, state: 'no owner', reason: `no poller holds it; its last checkpoint was committed ${ago(committedMs, nowMs)}`, whatToDo: START_A_POLLER, attention: true };
  }
  const askOwner = `ask its process (${owner}) at /status or /readyz: it shows the connector state (unauthorized, forbidden, unreachable, …) and what to do`;
  if (!checkpoint) {
    return { ...base, state: 'starting', reason: 'a poller holds it and has committed no page yet', whatToDo: `nothing in its first seconds; if it lasts, ${askOwner}`, attention: true };
  }
  if (!Number.isFinite(committedMs) || nowMs - committedMs > input.staleAfterSeconds * 1000) {
    return {
      ...base,
      state: 'stale',
      reason: `a poller holds it but committed no checkpoint for ${Number.isFinite(committedMs) ? formatDuration((nowMs - committedMs) / 1000) : 'an unknown time'} (an org with no new events looks the same)`,
      whatToDo: askOwner,
      attention: true,
    };
  }
  const newestMs = timeOf(checkpoint.lastPublished);
  // Pages of history are committed with old events; a caught-up poller commits events just published.
  const backfilling = Number.isFinite(newestMs) && committedMs - newestMs > BACKFILL_GAP_MS;
  return backfilling
    ? { ...base, state: 'backfilling', reason: 'committing pages of history', whatToDo: undefined, attention: false }
    : { ...base, state: 'connected', backfill: { ratio: 1, etaSeconds: 0, caughtUp: true }, reason: undefined, whatToDo: undefined, attention: false };
}

interface CheckpointFacts {
  since: string | undefined;
  committedAt: string | undefined;
  lastPublished: string | undefined;
  events: number | undefined;
}

function wellTyped(checkpoint: Checkpoint): CheckpointFacts {
  const text = (value: unknown) => (typeof value === 'string' && Number.isFinite(Date.parse(value)) ? value : undefined);
  const events = checkpoint.events as unknown;
  return {
    since: text(checkpoint.since),
    committedAt: text(checkpoint.committedAt),
    lastPublished: text(checkpoint.lastPublished),
    events: typeof events === 'number' && Number.isSafeInteger(events) && events >= 0 ? events : undefined,
  };
}

function timeOf(value: string | undefined): number {
  return value === undefined ? Number.NaN : Date.parse(value);
}

/** Share of [since, last commit] that the committed events cover; no ETA from one checkpoint. */
function backfillFromCheckpoint(checkpoint: CheckpointFacts): OrgStatus['backfill'] {
  const since = timeOf(checkpoint.since);
  const committed = timeOf(checkpoint.committedAt);
  const newest = checkpoint.lastPublished ? timeOf(checkpoint.lastPublished) : since;
  if (!Number.isFinite(since) || !Number.isFinite(committed) || !Number.isFinite(newest)) return undefined;
  const ratio = Math.min(1, Math.max(0, (newest - since) / Math.max(1, committed - since)));
  return { ratio, etaSeconds: undefined, caughtUp: committed - newest <= BACKFILL_GAP_MS };
}

/** The sink group's standing: attention when records wait and no member works, or when a partition is far behind. */
export function sinkStatus(input: { group: string; groupState: string | undefined; members: number | undefined; partitions: PartitionLag[]; readAt: string | undefined; maxLag: number }): SinkStatus {
  const totalLag = input.partitions.reduce((sum, p) => sum + p.lag, 0);
  const behind = input.partitions.filter((p) => p.lag > input.maxLag);
  const base = { group: input.group, groupState: input.groupState, members: input.members, partitions: input.partitions, readAt: input.readAt, totalLag };
  if (totalLag > 0 && input.members === 0) {
    return { ...base, reason: `${totalLag} record(s) wait and no sink is in the group`, whatToDo: 'start `okta-forwarder sink` (or `run`) with this configuration', attention: true };
  }
  if (behind.length > 0) {
    return {
      ...base,
      reason: `partition(s) ${behind.map((p) => `${p.partition} (${p.lag})`).join(', ')} more than ${input.maxLag} records behind`,
      whatToDo: "check Elasticsearch and the sinks' /readyz; add sink processes (up to one per partition) if it keeps growing",
      attention: true,
    };
  }
  return { ...base, reason: undefined, whatToDo: undefined, attention: false };
}

/** Cluster health and an exact count of recent documents, or why Elasticsearch could not be asked. */
export function elasticsearchStatus(input: { health: string; clusterName: string; documentsLast24h: number; byOrg: Record<string, number> } | { error: string }): ElasticsearchStatus {
  if ('error' in input) {
    return {
      state: 'unreachable',
      detail: input.error,
      documentsLast24h: undefined,
      documentsLast24hByOrg: undefined,
      whatToDo: 'check elasticsearch.nodes, TLS and credentials (`okta-forwarder check`); the sink waits and loses nothing meanwhile',
      attention: true,
    };
  }
  const red = input.health === 'red';
  return {
    state: input.health,
    detail: `cluster ${input.clusterName} is ${input.health}`,
    documentsLast24h: input.documentsLast24h,
    documentsLast24hByOrg: input.byOrg,
    whatToDo: red ? 'a primary shard is unassigned: documents of its index cannot be written (GET _cluster/allocation/explain)' : undefined,
    attention: red,
  };
}

/** What needs attention, one line each; empty when all is well. */
export function attentionItems(status: ClusterStatus): string[] {
  const items = status.orgs.filter((org) => org.attention).map((org) => `${org.org}: ${org.state}`);
  if (status.sink.attention) items.push(`sink: ${status.sink.reason ?? 'needs attention'}`);
  if (status.elasticsearch.attention) items.push(`elasticsearch: ${status.elasticsearch.state}`);
  return items;
}

function lagSeconds(newest: string | undefined, nowMs: number): number | undefined {
  const ms = newest ? Date.parse(newest) : Number.NaN;
  return Number.isFinite(ms) ? Math.max(0, (nowMs - ms) / 1000) : undefined;
}

function ago(ms: number, nowMs: number): string {
  return Number.isFinite(ms) ? `${formatDuration((nowMs - ms) / 1000)} ago` : 'at an unknown time';
}

/** What a long-running service adds to its process's /status: the orgs it polls, its sink. */
export interface ServiceStatus {
  orgs?: OrgStatus[];
  sink?: SinkStatus & { indexed: number; deadLettered: number };
  elasticsearch?: ElasticsearchStatus;
}

/** A process's /status: who it is, what it waits for while starting, and its service's view. */
export interface ProcessStatus {
  /** "<host>/<pid>", as the poller group shows its members. */
  process: string;
  command: string;
  startedAt: string;
  checkedAt: string;
  /** True until its dependencies answered and its service started; `waitingFor` says on what. */
  starting: boolean;
  waitingFor: Record<string, unknown>;
  orgs: OrgStatus[];
  sink: ServiceStatus['sink'];
  elasticsearch: ElasticsearchStatus | undefined;
  /** What needs attention, one line each; empty when all is well. */
  attention: string[];
}

export function processStatus(input: { process: string; command: string; startedAtMs: number; nowMs: number; starting: boolean; waitingFor: Record<string, unknown>; service: ServiceStatus }): ProcessStatus {
  const { service } = input;
  const orgs = service.orgs ?? [];
  const attention = orgs.filter((org) => org.attention).map((org) => `${org.org}: ${org.state}`);
  if (service.sink?.attention) attention.push(`sink: ${service.sink.reason ?? 'needs attention'}`);
  if (service.elasticsearch?.attention) attention.push(`elasticsearch: ${service.elasticsearch.state}`);
  return {
    process: input.process,
    command: input.command,
    startedAt: new Date(input.startedAtMs).toISOString(),
    checkedAt: new Date(input.nowMs).toISOString(),
    starting: input.starting,
    waitingFor: input.waitingFor,
    orgs,
    sink: service.sink,
    elasticsearch: service.elasticsearch,
    attention,
  };
}

/** Elasticsearch as a running sink sees it: taking its documents, or refusing them while it waits. */
export function elasticsearchFromSink(stats: { indexed: number; waitingForElasticsearch: boolean; elasticsearchWaitReason?: string | undefined }): ElasticsearchStatus {
  const base = { documentsLast24h: undefined, documentsLast24hByOrg: undefined };
  if (stats.waitingForElasticsearch) {
    return {
      ...base,
      state: 'waiting',
      detail: `Elasticsearch does not take documents: ${stats.elasticsearchWaitReason ?? 'retrying'}`,
      whatToDo: 'check the sink user\'s credentials and privileges (401/403), read-only or closed indices (disk watermark, ILM), 429/5xx; the sink retries and loses nothing',
      attention: true,
    };
  }
  return { ...base, state: 'indexing', detail: `${stats.indexed} document(s) indexed by this process since it started`, whatToDo: undefined, attention: false };
}

/** `status`'s exit code: 0 when all is well, EXIT_NEEDS_ATTENTION when anything is not. */
export function statusExitCode(status: ClusterStatus): number {
  return attentionItems(status).length === 0 ? 0 : EXIT_NEEDS_ATTENTION;
}
