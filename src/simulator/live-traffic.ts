/**
 * A steady stream of new events: every tick, as many events as `perMinute` makes due since the
 * last tick (fractions carry over), measured on the real monotonic clock so the rate holds even
 * when the simulator's own clock is a test's fixed fake. The timer does not keep the process alive.
 */
export class LiveTraffic {
  private readonly timer: NodeJS.Timeout;
  private last = performance.now();
  private owed = 0;
  private stopped = false;

  constructor(
    private readonly perMinute: number,
    private readonly emit: (count: number) => void,
  ) {
    if (!(perMinute > 0) || !Number.isFinite(perMinute)) throw new TypeError(`live traffic needs a positive, finite events-per-minute rate, got ${perMinute}`);
    // Tick often enough that a slow rate still looks continuous, rarely enough to stay cheap.
    const tickMs = Math.min(1000, Math.max(50, 60_000 / perMinute));
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
  }

  private tick(): void {
    const t = performance.now();
    this.owed += (this.perMinute * (t - this.last)) / 60_000;
    this.last = t;
    const count = Math.floor(this.owed);
    this.owed -= count;
    if (count > 0) this.emit(count);
  }
}
