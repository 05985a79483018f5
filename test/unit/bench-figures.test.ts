import { describe, expect, it } from 'vitest';
import { percentile, shortestBackfillMs, spread } from '../../bench/support.js';

// The sizing guide's arithmetic: a wrong median or a wrong "shortest time" would misstate every
// figure docs/performance.md quotes.
describe('benchmark figures', () => {
  it('gives the median and the range of the runs, in the order they ran', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, runs: [3, 1, 2] });
    expect(spread([4, 1, 3, 2]).median).toBe(2.5);
    expect(spread([7]).median).toBe(7);
  });

  it('takes percentiles by nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 .. 1
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([5], 99)).toBe(5);
  });

  it('counts the backfill in rate-limit windows reset on the clock, the first partial one included', () => {
    const window = 60_000;
    const firstAt = 10 * window + 45_000; // 15 s before a reset
    // 61 requests at 60 a window: the first window's rest, then the 61st at the next reset.
    expect(shortestBackfillMs(firstAt, 61, 60, window)).toBe(15_000);
    // 181 requests: three full windows' worth and one more, so three resets after the first.
    expect(shortestBackfillMs(firstAt, 181, 60, window)).toBe(15_000 + 2 * window);
    // Within one window's share, the rate limit does not bound the time.
    expect(shortestBackfillMs(firstAt, 60, 60, window)).toBe(0);
    // A first request right at a reset has the whole window.
    expect(shortestBackfillMs(10 * window, 61, 60, window)).toBe(window);
  });
});
