import { describe, expect, it } from 'vitest';
import { BackfillTracker } from '../../src/poller/progress.js';
import { failureHandling } from '../../src/poller/state.js';
import { RETRY_POLICIES, retryDelayMs } from '../../src/retry.js';

describe('retry delays', () => {
  it('grow exponentially from half to the whole of the step, and stop at the cap', () => {
    const policy = { initialMs: 1000, maxMs: 8000, multiplier: 2 };
    expect(retryDelayMs(policy, 1, () => 0)).toBe(500);
    expect(retryDelayMs(policy, 1, () => 1)).toBe(1000);
    expect(retryDelayMs(policy, 3, () => 1)).toBe(4000);
    expect(retryDelayMs(policy, 10, () => 1)).toBe(8000);
    expect(retryDelayMs(policy, 10, () => 0)).toBe(4000);
  });

  it('pace operator problems slower than outages', () => {
    expect(failureHandling('OF_OKTA_UNAUTHORIZED')).toMatchObject({ state: 'unauthorized', retry: 'needsOperator' });
    expect(failureHandling('OF_OKTA_FORBIDDEN')).toMatchObject({ state: 'forbidden', retry: 'needsOperator' });
    expect(failureHandling('OF_OKTA_UNREACHABLE')).toMatchObject({ state: 'unreachable', retry: 'unreachable' });
    expect(failureHandling('OF_OKTA_RATE_LIMITED').state).toBe('rate_limited');
    expect(failureHandling('OF_OKTA_BAD_REQUEST').state).toBe('misconfigured');
    expect(RETRY_POLICIES.needsOperator.initialMs).toBeGreaterThan(RETRY_POLICIES.unreachable.initialMs);
  });
});

describe('backfill progress', () => {
  it('reports the share of [since, now] covered, the event rate and an ETA', () => {
    const day = 86_400_000;
    let now = 100 * day;
    const since = now - 60 * day;
    const tracker = new BackfillTracker(since, 0, since, () => now);
    tracker.record(1000, since + 10 * day);
    now += 10_000;
    // 10 more days of events covered in 10 s: 1 day/s.
    tracker.record(5000, since + 20 * day);
    const progress = tracker.progress();
    expect(progress.ratio).toBeCloseTo(20 / 60, 3);
    expect(progress.events).toBe(6000);
    expect(progress.eventsPerSecond).toBeCloseTo(500);
    // 40 days left at ~1 day/s (minus the second that passes per second).
    expect(progress.etaSeconds).toBeGreaterThan(39);
    expect(progress.etaSeconds).toBeLessThan(41);
    tracker.markCaughtUp();
    expect(tracker.progress()).toMatchObject({ ratio: 1, etaSeconds: 0, caughtUp: true });
  });
});
