import { describe, expect, it } from 'vitest';
import { parseLinkHeaders } from '../../src/okta/links.js';
import { RateBudget, readRateLimit } from '../../src/okta/rate-limit.js';

describe('Okta link headers', () => {
  it('reads self and next from two separate header lines, as Okta sends them', () => {
    const links = parseLinkHeaders([
      '<https://acme.okta.com/api/v1/logs?limit=1000&since=2026-01-01T00%3A00%3A00Z>; rel="self"',
      '<https://acme.okta.com/api/v1/logs?limit=1000&after=1627500044869_1>; rel="next"',
    ]);
    expect(links.get('self')).toBe('https://acme.okta.com/api/v1/logs?limit=1000&since=2026-01-01T00%3A00%3A00Z');
    expect(links.get('next')).toBe('https://acme.okta.com/api/v1/logs?limit=1000&after=1627500044869_1');
  });

  it('reads links folded into one comma-separated line, with or without quotes', () => {
    const links = parseLinkHeaders('<https://a.example/x?a=1,2>; rel="self", <https://a.example/y>; rel=next');
    expect(links.get('self')).toBe('https://a.example/x?a=1,2');
    expect(links.get('next')).toBe('https://a.example/y');
  });

  it('has no next link when none is sent', () => {
    expect(parseLinkHeaders(undefined).get('next')).toBeUndefined();
    expect(parseLinkHeaders('<https://a.example/x>; rel="self"').get('next')).toBeUndefined();
  });
});

describe('the rate-limit budget', () => {
  const headers = (limit: number, remaining: number, resetS: number) => ({
    'x-rate-limit-limit': String(limit),
    'x-rate-limit-remaining': String(remaining),
    'x-rate-limit-reset': String(resetS),
  });

  it('reads X-Rate-Limit-* (reset in epoch seconds) and ignores responses without them', () => {
    expect(readRateLimit(headers(120, 119, 1_800_000_000))).toEqual({ limit: 120, remaining: 119, resetAtMs: 1_800_000_000_000 });
    expect(readRateLimit({ 'x-rate-limit-limit': '120' })).toBeUndefined();
  });

  it('spends at most its share of the limit per window, then waits for the reset', () => {
    let now = 1_000_000;
    const budget = new RateBudget(0.5, () => now);
    const resetS = (now + 60_000) / 1000;
    const start = now;
    for (let i = 1; i <= 10; i += 1) {
      now += budget.delayMs();
      budget.observe(readRateLimit(headers(20, 20 - i, resetS))!);
    }
    // Spread over the window, not sent in a burst: the tenth request went out after most of it.
    expect(now - start).toBeGreaterThan(40_000);
    expect(now - start).toBeLessThan(60_000);
    // 10 of 20 used: half the org's budget is left to other integrations.
    expect(budget.delayMs()).toBe(60_000 - (now - start));
    now = start;
    expect(budget.shareUsed()).toBe(0.5);
    now += 60_000;
    expect(budget.delayMs()).toBe(0);
    budget.observe(readRateLimit(headers(20, 19, resetS + 60))!);
    expect(budget.shareUsed()).toBeCloseTo(1 / 20);
  });

  it('paces requests evenly: the share left spread over the window left', () => {
    let now = 0;
    const budget = new RateBudget(0.5, () => now);
    // 120 a minute, a share of 0.5: one request a second, never a minute of silence.
    budget.observe(readRateLimit(headers(120, 119, 60))!);
    expect(budget.delayMs()).toBe(Math.round(60_000 / 60));
    now = 30_000;
    budget.observe(readRateLimit(headers(120, 100, 60))!);
    // 2 of 60 used with half the window left: the rest comes faster.
    expect(budget.delayMs()).toBe(Math.round(30_000 / 59));
  });

  it('sends a backlog (the pages of a backfill) without spacing, up to the share, then waits for the reset', () => {
    let now = 0;
    const budget = new RateBudget(0.5, () => now);
    for (let i = 1; i <= 60; i += 1) {
      expect(budget.delayMs(true), `request ${i}`).toBe(0);
      now += 200;
      budget.observe(readRateLimit(headers(120, 120 - i, 60))!);
    }
    // 60 of 120 spent in 12 s: the rest of the window is the others', backlog or not.
    expect(budget.delayMs(true)).toBe(60_000 - now);
    expect(budget.waitCause(true)).toBe('share');
    // A tailing request in the same window would have been spaced.
    const tailing = new RateBudget(0.5, () => 0);
    tailing.observe(readRateLimit(headers(120, 119, 60))!);
    expect(tailing.delayMs(true)).toBe(0);
    expect(tailing.delayMs()).toBe(1000);
    expect(tailing.waitCause()).toBe('pacing');
    expect(tailing.waitCause(true)).toBeUndefined();
  });

  it('waits for the reset when other clients have spent the org budget', () => {
    const now = 5_000_000;
    const budget = new RateBudget(0.5, () => now);
    budget.observe(readRateLimit(headers(120, 0, (now + 30_000) / 1000))!);
    expect(budget.delayMs()).toBe(30_000);
  });
});
