import { describe, expect, it } from 'vitest';
import { TailCadence } from '../../src/poller/tail-cadence.js';

describe('the wait of a caught-up poller', () => {
  it('asks again after the floor while events flow, so they are fetched seconds after Okta has them', () => {
    const cadence = new TailCadence(1_000, 15_000);
    expect([3, 1, 250].map((events) => cadence.next(events))).toEqual([1_000, 1_000, 1_000]);
  });

  it('doubles the wait at each empty page up to the poll interval, and is back at the floor at the next event', () => {
    const cadence = new TailCadence(1_000, 15_000);
    expect([0, 0, 0, 0, 0, 0].map((events) => cadence.next(events))).toEqual([2_000, 4_000, 8_000, 15_000, 15_000, 15_000]);
    expect(cadence.next(1)).toBe(1_000);
    expect(cadence.next(0)).toBe(2_000);
  });

  it('keeps the fixed interval when floor and ceiling are equal', () => {
    const cadence = new TailCadence(15_000, 15_000);
    expect([5, 0, 0, 7].map((events) => cadence.next(events))).toEqual([15_000, 15_000, 15_000, 15_000]);
  });
});
