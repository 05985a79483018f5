import type { Consumer, Kafka } from 'kafkajs';
import type { ForwarderConfig } from '../config/index.js';
import { ForwarderError } from '../errors.js';
import { describePollerGroup, orgSlot, thisProcess } from '../kafka/poller-group.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/registry.js';
import { interruptibleSleep, RetryAborted, untilAvailable, type WaitingListener } from '../retry.js';
import type { PollerHandle } from './poller.js';
import { slotAssigner } from './slot-assignment.js';

/**
 * How long a process waits before it polls an org that another live member of the group held
 * until this rebalance. Both hear of the new assignment at the same moment; the previous owner
 * stops after its page in flight (a transaction takes well under a second), so the new one
 * starting after that never fences it. Should it take longer, the new owner's producer fences it
 * anyway: exactly once holds, the wait only keeps fencing out of normal operation.
 */
export const HANDOVER_WAIT_MS = 5_000;

/** Why an org stopped being polled here; the `change` label of the ownership metric. */
type GiveUpReason = 'reassigned' | 'fenced' | 'released';

export interface OrgAssignmentOptions {
  config: ForwarderConfig;
  kafka: Kafka;
  logger: Logger;
  metrics: Metrics;
  /** Starts the poller of one org (its producer fences any zombie, then it reads its checkpoint). */
  startOrg(orgId: string): PollerHandle;
  /** Whether the org is polled here now (metrics, connector state). */
  ownedChanged?(orgId: string, owned: boolean): void;
  signal?: AbortSignal;
  onWaiting?: WaitingListener;
  handoverWaitMs?: number;
}

/**
 * This process as a member of the poller group (`kafka.pollerGroup`): a KafkaJS consumer of the
 * empty pollers topic whose partitions are org slots (src/kafka/poller-group.ts). The group's
 * coordinator decides which member holds which slot (slot-assignment.ts); this class runs the
 * pollers of the orgs in the slots held, and only those:
 *
 * - a new assignment stops the pollers of the orgs no longer held (each after its page in
 *   flight: committed, or abandoned uncommitted) and starts the newly held ones, after
 *   HANDOVER_WAIT_MS when a live member held them until now;
 * - a poller fenced by another process gives its org up quietly: the process goes on with its
 *   other orgs, and the group decides;
 * - stop() stops the pollers first, then leaves the group, so the orgs move on at once and
 *   nobody fences anybody during a rolling restart;
 * - a member that dies stops heartbeating: after `kafka.pollerSessionTimeoutMs` the group gives
 *   its slots to the others.
 *
 * `handles` is the live map of the orgs polled here.
 */
export class OrgAssignment {
  readonly handles = new Map<string, PollerHandle>();
  readonly process = thisProcess();
  private readonly logger: Logger;
  private readonly orgIds: string[];
  /** Orgs whose start waits for the previous owner to finish its page. */
  private readonly pending = new Map<string, NodeJS.Timeout>();
  /** Slots of the current assignment: said at the next join, so the leader keeps them here. */
  private held: number[] = [];
  private consumer: Consumer | undefined;
  /** Assignments are applied one after another, in the order they came. */
  private applying: Promise<void> = Promise.resolve();
  private stopping = false;
  /** Why this process holds no slots for now although it should (the group member crashed); undefined when it is a member. */
  private memberWait: string | undefined;
  private readonly stopped = new AbortController();
  private fail!: (err: Error) => void;
  /** Settles when stop() has run; rejects when the group cannot be joined again after a crash. */
  readonly done: Promise<void>;

  constructor(private readonly options: OrgAssignmentOptions) {
    this.logger = options.logger.child({ component: 'poller-group', process: this.process });
    this.orgIds = options.config.okta.orgs.map((org) => org.id);
    const failed = new Promise<never>((_, reject) => (this.fail = reject));
    this.done = Promise.race([failed, new Promise<void>((resolve) => this.stopped.signal.addEventListener('abort', () => resolve(), { once: true }))]);
    this.done.catch(() => undefined);
    options.metrics.pollerInfo.set({ process: this.process, group: options.config.kafka.pollerGroup }, 1);
    for (const org of this.orgIds) options.metrics.orgOwned.set({ org }, 0);
  }

  /** Joins the group (waiting for Kafka as long as it takes, unless the signal ends the wait). */
  async start(): Promise<void> {
    await this.join('joining the poller group', this.options.signal);
  }

  /** What keeps this process out of the group now (for /readyz): it polls nothing until it is back. */
  waitingFor(): string | undefined {
    return this.memberWait;
  }

  async stop(): Promise<void> {
    if (this.stopping) return this.applying;
    this.stopping = true;
    await this.applying.catch(() => undefined);
    await this.giveUpAll('released', 'this process is stopping');
    // Left only now: the others start these orgs after their last page here was committed.
    await this.consumer?.disconnect().catch(() => undefined);
    this.stopped.abort();
  }

  private async join(what: string, signal: AbortSignal | undefined): Promise<void> {
    const { config, kafka } = this.options;
    const sessionTimeout = config.kafka.pollerSessionTimeoutMs;
    const consumer = kafka.consumer({
      groupId: config.kafka.pollerGroup,
      partitionAssigners: [slotAssigner({ topic: config.kafka.topics.pollers, orgIds: () => this.orgIds, info: () => ({ process: this.process, slots: this.held }) })],
      sessionTimeout,
      // Live members are waited for this long to rejoin: they hear of a rebalance at their next
      // heartbeat, a few seconds at most.
      rebalanceTimeout: Math.max(sessionTimeout, 10_000),
      heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 5)),
      // KafkaJS heartbeats between fetches; a member with no slots, between waits of this length.
      maxWaitTimeInMs: Math.min(1000, Math.floor(sessionTimeout / 5)),
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.memberWait = undefined;
      const slots = payload.memberAssignment[config.kafka.topics.pollers] ?? [];
      this.enqueue(() => this.apply([...slots].sort((a, b) => a - b), payload.memberId));
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.stopping) return;
      this.memberWait = `Kafka: the poller group member crashed (${payload.error.message}); joining the group again`;
      // Membership is lost: the group gives these orgs to others after the session timeout.
      this.logger.warn({ err: payload.error, restart: payload.restart }, 'the poller group member crashed; giving its orgs up and joining again');
      this.enqueue(async () => {
        await this.giveUpAll('released', `the poller group member crashed: ${payload.error.message}`);
        this.held = [];
        if (payload.restart) return; // KafkaJS starts it again by itself
        await consumer.disconnect().catch(() => undefined);
        // Not at once: an error KafkaJS does not retry may well come back.
        if (!(await interruptibleSleep(5_000, this.stopped.signal))) return;
        await this.join('joining the poller group again after a crash', this.stopped.signal).catch((err: unknown) => {
          if (!(err instanceof RetryAborted)) throw err;
        });
      });
    });
    this.consumer = consumer;
    try {
      await untilAvailable(
        'Kafka',
        what,
        async () => {
          await consumer.connect();
          await consumer.subscribe({ topic: config.kafka.topics.pollers, fromBeginning: false });
          await consumer.run({ autoCommit: false, eachBatch: async () => undefined });
        },
        this.waitOptions(signal),
      );
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
    this.logger.info({ group: config.kafka.pollerGroup, topic: config.kafka.topics.pollers, sessionTimeoutMs: sessionTimeout }, 'member of the poller group: the group assigns this process its slots');
  }

  private enqueue(step: () => Promise<void>): void {
    this.applying = this.applying.then(step).catch((err: unknown) => {
      if (this.stopping) return;
      this.fail(err instanceof Error ? err : new Error(String(err)));
    });
  }

  /** Runs the pollers of the orgs in `slots` and only those. */
  private async apply(slots: number[], memberId: string): Promise<void> {
    if (this.stopping) return;
    this.held = slots;
    const slotCount = await untilAvailable('Kafka', 'reading the slots of the pollers topic', () => this.slotCount(), this.waitOptions(this.stopped.signal));
    const mine = new Set(this.orgIds.filter((org) => slots.includes(orgSlot(org, slotCount))));
    this.logger.info({ slots, orgs: [...mine] }, 'the poller group assigned this process its slots');
    await Promise.all([...this.handles.keys(), ...this.pending.keys()].filter((org) => !mine.has(org)).map((org) => this.giveUp(org, 'reassigned', 'the group gave it to another process')));
    const gained = [...mine].filter((org) => !this.handles.has(org) && !this.pending.has(org));
    if (gained.length === 0) return;
    const handedOver = await this.slotsHeldByOthers(memberId);
    for (const org of gained) {
      const slot = orgSlot(org, slotCount);
      if (!handedOver.has(slot)) {
        this.take(org, slot, 'its previous owner left the group');
        continue;
      }
      this.logger.info({ org, slot, waitMs: this.handoverWaitMs }, `org ${org} (slot ${slot}) comes from another process: starting once it has finished its page`);
      this.pending.set(
        org,
        setTimeout(() => {
          this.pending.delete(org);
          if (!this.stopping) this.take(org, slot, 'handed over by another process');
        }, this.handoverWaitMs),
      );
    }
  }

  private waitOptions(signal: AbortSignal | undefined) {
    return { ...(signal ? { signal } : {}), ...(this.options.onWaiting ? { onWaiting: this.options.onWaiting } : {}) };
  }

  private get handoverWaitMs(): number {
    return this.options.handoverWaitMs ?? HANDOVER_WAIT_MS;
  }

  private take(org: string, slot: number, how: string): void {
    const handle = this.options.startOrg(org);
    this.handles.set(org, handle);
    this.options.ownedChanged?.(org, true);
    this.options.metrics.orgOwnershipChanges.inc({ org, change: 'took' });
    this.logger.info({ org, slot, how }, `took org ${org} (slot ${slot}) from the group`);
    handle.done.then(
      () => undefined,
      (err: Error) => {
        // Still ours in the group's view, but another process holds its transactional id now: the
        // group decides at its next rebalance, this process goes on with its other orgs.
        if (this.handles.get(org) !== handle) return;
        this.handles.delete(org);
        const fenced = err instanceof ForwarderError && err.code === 'OF_KAFKA_FENCED';
        this.released(org, fenced ? 'fenced' : 'released', fenced ? 'another process took it over (its producer fenced this one)' : err.message);
      },
    );
  }

  private async giveUp(org: string, change: GiveUpReason, why: string): Promise<void> {
    const timer = this.pending.get(org);
    if (timer) {
      clearTimeout(timer);
      this.pending.delete(org);
      this.logger.info({ org, change }, `gave org ${org} up before starting it: ${why}`);
      return;
    }
    const handle = this.handles.get(org);
    if (!handle) return;
    this.handles.delete(org);
    await handle.stop();
    this.released(org, change, why);
  }

  private async giveUpAll(change: GiveUpReason, why: string): Promise<void> {
    await Promise.all([...this.pending.keys(), ...this.handles.keys()].map((org) => this.giveUp(org, change, why)));
  }

  private released(org: string, change: GiveUpReason, why: string): void {
    this.options.ownedChanged?.(org, false);
    this.options.metrics.orgOwnershipChanges.inc({ org, change });
    const line = { org, change };
    if (change === 'fenced') this.logger.warn(line, `gave org ${org} up: ${why}`);
    else this.logger.info(line, `gave org ${org} up: ${why}`);
  }

  /** The partitions of the pollers topic, as the cluster says (32 when the forwarder created it). */
  private async slotCount(): Promise<number> {
    const { kafka, config } = this.options;
    const admin = kafka.admin();
    try {
      await admin.connect();
      const metadata = await admin.fetchTopicMetadata({ topics: [config.kafka.topics.pollers] });
      return metadata.topics[0]!.partitions.length;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Slots that another live member of this generation held before it: those orgs are being handed over. */
  private async slotsHeldByOthers(memberId: string): Promise<Pick<Set<number>, 'has'>> {
    const { kafka, config } = this.options;
    const admin = kafka.admin();
    try {
      await admin.connect();
      const { members } = await describePollerGroup(admin, config.kafka);
      return new Set(members.filter((member) => member.memberId !== memberId).flatMap((member) => member.previousSlots));
    } catch (err) {
      // Not knowing, assume a handover: waiting a little is safe, fencing a live owner is not.
      this.logger.debug({ err }, 'describing the poller group failed; treating every new org as handed over');
      return { has: () => true };
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
