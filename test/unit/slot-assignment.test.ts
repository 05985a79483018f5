import { AssignerProtocol } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { encodeMemberInfo, orgSlot, POLLER_SLOTS } from '../../src/kafka/poller-group.js';
import { assignSlots, slotAssigner, type SlotMember } from '../../src/poller/slot-assignment.js';

const SLOTS = 32;
const orgs = (...ids: string[]) => ids;
/** Six orgs in six distinct slots of 32 (the first such ids). */
const SIX = Array.from({ length: 40 }, (_, i) => `org-${i}`)
  .filter((org, i, all) => all.findIndex((other) => orgSlot(other, SLOTS) === orgSlot(org, SLOTS)) === i)
  .slice(0, 6);

function weights(orgIds: string[], slots = SLOTS) {
  const perSlot = new Map<number, number>();
  for (const org of orgIds) perSlot.set(orgSlot(org, slots), (perSlot.get(orgSlot(org, slots)) ?? 0) + 1);
  return (slot: number) => perSlot.get(slot) ?? 0;
}

function orgsOf(assignment: Map<string, number[]>, orgIds: string[], slots = SLOTS): Map<string, string[]> {
  return new Map([...assignment].map(([member, owned]) => [member, orgIds.filter((org) => owned.includes(orgSlot(org, slots)))]));
}

function members(...entries: [string, number[]][]): SlotMember[] {
  return entries.map(([memberId, previous]) => ({ memberId, previous }));
}

/** Every slot exactly once across the members. */
function expectEverySlotOnce(assignment: Map<string, number[]>, slots = SLOTS) {
  const all = [...assignment.values()].flat().sort((a, b) => a - b);
  expect(all).toEqual(Array.from({ length: slots }, (_, slot) => slot));
}

function moved(before: Map<string, number[]>, after: Map<string, number[]>, orgIds: string[]): string[] {
  const owner = (assignment: Map<string, number[]>, org: string) => [...assignment].find(([, owned]) => owned.includes(orgSlot(org, SLOTS)))?.[0];
  return orgIds.filter((org) => owner(before, org) !== owner(after, org));
}

describe('the poller group shares the org slots', () => {
  it('spreads orgs evenly by count and gives every slot, empty or not, to exactly one member', () => {
    expect(new Set(SIX.map((org) => orgSlot(org, SLOTS))).size).toBe(6);
    const assignment = assignSlots(members(['a', []], ['b', []], ['c', []]), SLOTS, weights(SIX));
    expectEverySlotOnce(assignment);
    expect([...orgsOf(assignment, SIX).values()].map((owned) => owned.length)).toEqual([2, 2, 2]);
    // The empty slots are spread too: a process with a newer configuration may have an org there.
    expect([...assignment.values()].map((owned) => owned.length).sort()).toEqual([10, 11, 11]);
  });

  it('keeps each member its slots when nothing changed', () => {
    const first = assignSlots(members(['a', []], ['b', []], ['c', []]), SLOTS, weights(SIX));
    const again = assignSlots(members(['a', first.get('a')!], ['b', first.get('b')!], ['c', first.get('c')!]), SLOTS, weights(SIX));
    expect(again).toEqual(first);
  });

  it('moves only the orgs of a member that left, spread over the others', () => {
    const first = assignSlots(members(['a', []], ['b', []], ['c', []]), SLOTS, weights(SIX));
    const after = assignSlots(members(['a', first.get('a')!], ['c', first.get('c')!]), SLOTS, weights(SIX));
    expectEverySlotOnce(after);
    expect(moved(first, after, SIX).sort()).toEqual(orgsOf(first, SIX).get('b')!.sort());
    expect([...orgsOf(after, SIX).values()].map((owned) => owned.length)).toEqual([3, 3]);
  });

  it('gives a member that joins a fair share, taking only that much from the others', () => {
    const first = assignSlots(members(['a', []], ['b', []], ['c', []]), SLOTS, weights(SIX));
    const after = assignSlots(members(['a', first.get('a')!], ['b', first.get('b')!], ['c', first.get('c')!], ['d', []]), SLOTS, weights(SIX));
    expectEverySlotOnce(after);
    const counts = [...orgsOf(after, SIX).values()].map((owned) => owned.length);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(orgsOf(after, SIX).get('d')!.length).toBeGreaterThanOrEqual(1);
    expect(moved(first, after, SIX)).toHaveLength(orgsOf(after, SIX).get('d')!.length);
  });

  it('leaves members without orgs when there are more members than orgs, and they still hold empty slots', () => {
    const two = orgs('org-1', 'org-2');
    const assignment = assignSlots(members(['a', []], ['b', []], ['c', []], ['d', []]), SLOTS, weights(two));
    expectEverySlotOnce(assignment);
    const counts = [...orgsOf(assignment, two).values()].map((owned) => owned.length);
    expect(counts.sort()).toEqual([0, 0, 1, 1]);
    for (const owned of assignment.values()) expect(owned.length).toBeGreaterThan(0);
  });

  it('keeps orgs that share a slot together and balances by org count as far as slots allow', () => {
    // Find two orgs that share a slot of four.
    const ids = Array.from({ length: 40 }, (_, i) => `org-${i}`);
    const slotOf = (org: string) => orgSlot(org, 4);
    const [x, y] = ids.filter((org) => slotOf(org) === slotOf(ids[0]!)).slice(0, 2) as [string, string];
    const others = ids.filter((org) => slotOf(org) !== slotOf(x)).filter((org, i, all) => all.findIndex((o) => slotOf(o) === slotOf(org)) === i).slice(0, 2);
    const orgIds = [x, y, ...others];
    const assignment = assignSlots(members(['a', []], ['b', []]), 4, weights(orgIds, 4));
    expectEverySlotOnce(assignment, 4);
    const byMember = orgsOf(assignment, orgIds, 4);
    const holder = [...byMember].find(([, owned]) => owned.includes(x))![0];
    expect(byMember.get(holder)).toContain(y);
    // Two orgs in one slot against two orgs in two slots: 2 and 2.
    expect([...byMember.values()].map((owned) => owned.length)).toEqual([2, 2]);
  });

  it('gives a slot claimed by two members (one of them fenced without knowing) to one of them only', () => {
    const assignment = assignSlots(members(['a', [1, 2]], ['b', [2, 3]]), 4, () => 1);
    expectEverySlotOnce(assignment, 4);
    expect(assignment.get('a')).toContain(2);
  });

  it('works on the real partitions of the pollers topic, reading stickiness from each member\'s metadata', async () => {
    const topic = 'pollers';
    const slots = 12; // not POLLER_SLOTS: the count comes from the cluster
    expect(slots).not.toBe(POLLER_SLOTS);
    const cluster = { findTopicPartitionMetadata: () => Array.from({ length: slots }, (_, partitionId) => ({ partitionId })) };
    const assigner = slotAssigner({ topic, orgIds: () => SIX, info: () => ({ process: 'host/1', slots: [] }) })({ cluster, groupId: 'g', logger: console } as never);
    const metadata = (held: number[]) => AssignerProtocol.MemberMetadata.encode({ version: 1, topics: [topic], userData: encodeMemberInfo({ process: 'h/2', slots: held }) });
    const result = await assigner.assign({ members: [{ memberId: 'm1', memberMetadata: metadata([0, 1, 2, 3, 4, 5]) }, { memberId: 'm2', memberMetadata: metadata([]) }], topics: [topic] });
    const decoded = new Map(result.map(({ memberId, memberAssignment }) => [memberId, AssignerProtocol.MemberAssignment.decode(memberAssignment)!.assignment[topic]!]));
    expectEverySlotOnce(decoded, slots);
    // m1 keeps slots it held as far as the balance of the six orgs allows.
    const kept = decoded.get('m1')!.filter((slot) => slot <= 5);
    expect(kept.length).toBeGreaterThanOrEqual(3);
    const counts = [...orgsOf(decoded, SIX, slots).values()].map((owned) => owned.length);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });
});
