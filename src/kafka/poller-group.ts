import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { AssignerProtocol, type Admin, type ITopicConfig } from 'kafkajs';
import type { ForwarderConfig } from '../config/index.js';

/**
 * How the poll and run processes of one configuration share its orgs, with nothing but the Kafka
 * cluster they already use: they are members of one consumer group (`kafka.pollerGroup`)
 * subscribed to an empty topic (`kafka.topics.pollers`) whose partitions are org slots. An org
 * lives in the slot its id hashes to, and is polled by the member that holds that slot. The hash
 * (not the order of the orgs in the file) keeps two processes with different org lists, as in a
 * rolling update of the configuration, agreeing on where each org lives.
 *
 * This module is the contract between the processes that take slots and the `status` command that
 * reads who holds them: the slot of an org, and what a member tells the group about itself.
 */

/** Slots of the pollers topic when the forwarder creates it: more than any one deployment's orgs need to spread well. */
export const POLLER_SLOTS = 32;

export function pollersTopicSpec(kafka: ForwarderConfig['kafka']): ITopicConfig {
  return {
    topic: kafka.topics.pollers,
    numPartitions: POLLER_SLOTS,
    replicationFactor: kafka.replicationFactor,
    // Nothing is ever written to it; keep it small if anything is.
    configEntries: [{ name: 'retention.ms', value: '3600000' }],
  };
}

/** The slot (partition of the pollers topic) of an org: a stable hash of its id. */
export function orgSlot(orgId: string, slots: number): number {
  return createHash('sha256').update(orgId).digest().readUInt32BE(0) % slots;
}

/** What a member says of itself in its group metadata: read by the leader (stickiness) and by `status`. */
export interface PollerMemberInfo {
  /** The process, for people: "<host>/<pid>". */
  process: string;
  /** The slots it held before this rebalance, so the leader moves as few orgs as it can. */
  slots: number[];
}

export function thisProcess(): string {
  return `${hostname()}/${process.pid}`;
}

export function encodeMemberInfo(info: PollerMemberInfo): Buffer {
  return Buffer.from(JSON.stringify(info));
}

/** A member's info from its metadata's user data; undefined when it is not ours (another client in the group). */
export function decodeMemberInfo(userData: Buffer | null | undefined): PollerMemberInfo | undefined {
  if (!userData || userData.length === 0) return undefined;
  try {
    const parsed = JSON.parse(userData.toString('utf8')) as Partial<PollerMemberInfo>;
    if (typeof parsed.process !== 'string' || !Array.isArray(parsed.slots)) return undefined;
    return { process: parsed.process, slots: parsed.slots.filter((slot): slot is number => Number.isInteger(slot)) };
  } catch {
    return undefined;
  }
}

/** One member of the poller group as the coordinator describes it. */
export interface PollerMember {
  memberId: string;
  clientHost: string;
  /** "<host>/<pid>" from the member's own metadata, else the client host the coordinator saw. */
  process: string;
  /** Slots assigned in the current generation. */
  slots: number[];
  /** Slots it said it held when it joined this generation (from its metadata): where a slot comes from. */
  previousSlots: number[];
}

/** The poller group as the coordinator sees it now: its state and members with their slots. */
export async function describePollerGroup(admin: Admin, kafka: ForwarderConfig['kafka']): Promise<{ state: string; members: PollerMember[] }> {
  const { groups } = await admin.describeGroups([kafka.pollerGroup]);
  const group = groups[0];
  if (!group) return { state: 'Dead', members: [] };
  const members = group.members.map((member) => {
    const assignment = member.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(member.memberAssignment) : null;
    const metadata = member.memberMetadata.length > 0 ? AssignerProtocol.MemberMetadata.decode(member.memberMetadata) : null;
    const info = decodeMemberInfo(metadata?.userData);
    return {
      memberId: member.memberId,
      clientHost: member.clientHost,
      process: info?.process ?? member.clientHost,
      slots: [...(assignment?.assignment[kafka.topics.pollers] ?? [])].sort((a, b) => a - b),
      previousSlots: info?.slots ?? [],
    };
  });
  return { state: group.state, members };
}

/** Which member polls each org now (by the slots of the current generation); orgs no member holds are absent. */
export function ownersOfOrgs(orgIds: string[], members: PollerMember[], slots: number): Map<string, PollerMember> {
  const bySlot = new Map<number, PollerMember>();
  for (const member of members) for (const slot of member.slots) bySlot.set(slot, member);
  const owners = new Map<string, PollerMember>();
  for (const org of orgIds) {
    const owner = bySlot.get(orgSlot(org, slots));
    if (owner) owners.set(org, owner);
  }
  return owners;
}
