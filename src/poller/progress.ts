/**
 * Backfill progress of one org: the share of [since, now] that the published events cover, the
 * event rate, and an estimate of when the backfill catches up, from how fast the covered time has
 * advanced over the last minute.
 */
export interface BackfillProgress {
  ratio: number;
  events: number;
  eventsPerSecond: number;
  /** Seconds until caught up; undefined while there is no estimate yet. */
  etaSeconds: number | undefined;
  caughtUp: boolean;
}

const WINDOW_MS = 60_000;

export class BackfillTracker {
  private readonly samples: { atMs: number; events: number; coveredMs: number }[] = [];
  private caughtUp = false;

  constructor(
    private readonly sinceMs: number,
    private events: number,
    private coveredUntilMs: number,
    private readonly now: () => number,
  ) {}

  record(pageEvents: number, newestPublishedMs: number | undefined): void {
    this.events += pageEvents;
    if (newestPublishedMs !== undefined && newestPublishedMs > this.coveredUntilMs) this.coveredUntilMs = newestPublishedMs;
    const atMs = this.now();
    this.samples.push({ atMs, events: this.events, coveredMs: this.coveredUntilMs });
    while (this.samples.length > 2 && (this.samples[0]?.atMs ?? atMs) < atMs - WINDOW_MS) this.samples.shift();
  }

  markCaughtUp(): void {
    this.caughtUp = true;
  }

  get isCaughtUp(): boolean {
    return this.caughtUp;
  }

  progress(): BackfillProgress {
    const now = this.now();
    const first = this.samples[0];
    const last = this.samples.at(-1);
    const elapsedS = first && last ? (last.atMs - first.atMs) / 1000 : 0;
    const eventsPerSecond = first && last && elapsedS > 0 ? (last.events - first.events) / elapsedS : 0;
    if (this.caughtUp) return { ratio: 1, events: this.events, eventsPerSecond, etaSeconds: 0, caughtUp: true };
    const span = Math.max(1, now - this.sinceMs);
    const ratio = Math.min(1, Math.max(0, (this.coveredUntilMs - this.sinceMs) / span));
    const coveredPerS = first && last && elapsedS > 0 ? (last.coveredMs - first.coveredMs) / elapsedS : 0;
    // Time keeps moving while the backfill runs: the gap closes at (covered speed - 1).
    const closing = coveredPerS / 1000 - 1;
    const etaSeconds = closing > 0 ? (now - this.coveredUntilMs) / 1000 / closing : undefined;
    return { ratio, events: this.events, eventsPerSecond, etaSeconds, caughtUp: false };
  }
}
