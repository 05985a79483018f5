/**
 * How long a caught-up poller waits before asking Okta again. While events are flowing it asks
 * again after the floor (`minPollIntervalSeconds`): the org's rate budget then spaces the request
 * within its share (at 120 requests a minute and a share of 0.5, one a second), so events are
 * fetched seconds after Okta persists them. Each empty page doubles the wait, up to
 * `pollIntervalSeconds`, so a quiet org costs few requests and leaves its budget to others.
 */
export class TailCadence {
  private waitMs: number;

  constructor(
    private readonly floorMs: number,
    private readonly ceilingMs: number,
  ) {
    this.waitMs = Math.min(floorMs, ceilingMs);
  }

  /** The wait after a page that was not full and held `events` events. */
  next(events: number): number {
    this.waitMs = events > 0 ? Math.min(this.floorMs, this.ceilingMs) : Math.min(this.ceilingMs, Math.max(this.waitMs * 2, this.floorMs));
    return this.waitMs;
  }
}
