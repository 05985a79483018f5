import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';
import { decodeMemberInfo, encodeMemberInfo, orgSlot, type PollerMemberInfo } from '../kafka/poller-group.js';

/**
 * How the leader of the poller group shares the org slots among the members (pure, so the unit
 * tests can hold it to its promises):
 *
 * - every slot has an owner, also the ones that hold no org the leader knows of: a process with a
 *   newer configuration may have an org there;
 * - the slots holding orgs are shared evenly by org count (two orgs in one slot move together, so
 *   "evenly" is as close as the slots allow), the empty ones evenly by number;
 * - sticky: each member keeps the slots it held, as far as balance allows, so a member joining or
 *   leaving moves only the orgs it must (a moved org pauses for a handover; see org-assignment.ts).
 */
export interface SlotMember {
  memberId: string;
  /** Slots the member held before this rebalance (what it said when it joined). */
  previous: number[];
}

export function assignSlots(members: SlotMember[], slotCount: number, orgsInSlot: (slot: number) => number): Map<string, number[]> {
  const ordered = [...members].sort((a, b) => a.memberId.localeCompare(b.memberId));
  const result = new Map<string, number[]>(ordered.map((member) => [member.memberId, []]));
  if (ordered.length === 0) return result;
  const slots = Array.from({ length: slotCount }, (_, slot) => slot);
  const busy = slots.filter((slot) => orgsInSlot(slot) > 0);
  const empty = slots.filter((slot) => orgsInSlot(slot) === 0);
  // Orgs first, by org count; then the empty slots, by number.
  for (const [group, weight] of [
    [busy, orgsInSlot],
    [empty, () => 1],
  ] as const) {
    const share = shareEvenly(ordered, group, weight);
    for (const [memberId, owned] of share) result.get(memberId)!.push(...owned);
  }
  for (const owned of result.values()) owned.sort((a, b) => a - b);
  return result;
}

/** One group of slots shared by weight: previous owners keep theirs up to a fair share, the rest goes to the lightest. */
function shareEvenly(members: SlotMember[], slots: readonly number[], weight: (slot: number) => number): Map<string, number[]> {
  const inGroup = new Set(slots);
  const owned = new Map<string, number[]>(members.map((member) => [member.memberId, []]));
  const load = (memberId: string) => owned.get(memberId)!.reduce((sum, slot) => sum + weight(slot), 0);
  const taken = new Set<number>();
  // Keep what each member held (a slot claimed twice, by a member that was fenced and did not
  // know yet, stays with the first).
  for (const member of members) {
    for (const slot of member.previous) {
      if (!inGroup.has(slot) || taken.has(slot)) continue;
      taken.add(slot);
      owned.get(member.memberId)!.push(slot);
    }
  }
  const total = slots.reduce((sum, slot) => sum + weight(slot), 0);
  const fairShare = Math.ceil(total / members.length);
  // Members above their fair share give up their lightest slots first: fewer orgs move.
  for (const member of members) {
    const mine = owned.get(member.memberId)!;
    mine.sort((a, b) => weight(b) - weight(a) || a - b);
    while (load(member.memberId) > fairShare && mine.length > 0) taken.delete(mine.pop()!);
  }
  // The slots nobody keeps, heaviest first, to the member with the least load.
  const lightest = () => members.reduce((best, member) => (load(member.memberId) < load(best.memberId) ? member : best));
  const free = slots.filter((slot) => !taken.has(slot)).sort((a, b) => weight(b) - weight(a) || a - b);
  for (const slot of free) owned.get(lightest().memberId)!.push(slot);
  // Then move single slots from the heaviest to the lightest member while that narrows the gap.
  for (let moves = 0; moves < slots.length * members.length; moves += 1) {
    const heaviest = members.reduce((best, member) => (load(member.memberId) > load(best.memberId) ? member : best));
    const light = lightest();
    const gap = load(heaviest.memberId) - load(light.memberId);
    const from = owned.get(heaviest.memberId)!;
    const candidates = from.filter((slot) => weight(slot) < gap).sort((a, b) => Math.abs(gap - 2 * weight(a)) - Math.abs(gap - 2 * weight(b)) || a - b);
    const slot = candidates[0];
    if (slot === undefined) break;
    from.splice(from.indexOf(slot), 1);
    owned.get(light.memberId)!.push(slot);
  }
  return owned;
}

/** Name of the protocol the poller group's members agree on. */
export const POLLER_ASSIGNER = 'okta-forwarder-org-slots';

/**
 * The KafkaJS partition assigner of the poller group: `assignSlots` over the real partitions of
 * the pollers topic (read from the cluster, never assumed), with the leader's configured orgs as
 * the weights. Each member's metadata says who it is and which slots it holds (`heldSlots`).
 */
export function slotAssigner(options: { topic: string; orgIds: () => string[]; info: () => PollerMemberInfo }): PartitionAssigner {
  return ({ cluster }) => ({
    name: POLLER_ASSIGNER,
    version: 1,
    protocol: () => ({ name: POLLER_ASSIGNER, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics: [options.topic], userData: encodeMemberInfo(options.info()) }) }),
    async assign({ members }) {
      const slotCount = cluster.findTopicPartitionMetadata(options.topic).length;
      const orgsPerSlot = new Map<number, number>();
      for (const org of options.orgIds()) {
        const slot = orgSlot(org, slotCount);
        orgsPerSlot.set(slot, (orgsPerSlot.get(slot) ?? 0) + 1);
      }
      const slotMembers = members.map((member) => {
        const metadata = AssignerProtocol.MemberMetadata.decode(member.memberMetadata);
        return { memberId: member.memberId, previous: (decodeMemberInfo(metadata?.userData)?.slots ?? []).filter((slot) => slot < slotCount) };
      });
      const shares = assignSlots(slotMembers, slotCount, (slot) => orgsPerSlot.get(slot) ?? 0);
      return [...shares].map(([memberId, slots]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: { [options.topic]: slots }, userData: Buffer.alloc(0) }),
      }));
    },
  });
}
