/**
 * Bounds the pages read ahead at once across a process's orgs. A page read ahead is a full page
 * of a backlog: its body (a few MB for 1,000 events) and, while the encoder thread parses it, its
 * events. With every org reading two pages ahead, a process's peak memory grew with the number of
 * orgs backfilling at once (bench/sizing.ts: `run` with 10 orgs backfilling at once peaked at
 * 465-520 MB). The encoder is one thread: more pages at once than it takes add memory, not
 * throughput. A tailing org's pages are small and are not read ahead: they need no slot.
 */
export class PageSlots {
  private used = 0;
  /** Requests waiting for a slot, first come first served. */
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {}

  /** The slot's release, once one is free; at once, holding nothing, when `signal` is aborted (the poller stops). */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (this.used < this.size) {
      this.used += 1;
      return Promise.resolve(this.releaser());
    }
    if (signal.aborted) return Promise.resolve(() => undefined);
    return new Promise((resolve) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        resolve(this.releaser());
      };
      const onAbort = () => {
        const at = this.waiting.indexOf(grant);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve(() => undefined);
      };
      this.waiting.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Slots held now (for tests). */
  get inUse(): number {
    return this.used;
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes to the next request waiting, or becomes free.
      if (next) next();
      else this.used -= 1;
    };
  }
}
