/**
 * Failures a test can order for the next /api/v1/logs requests, in the order they were injected.
 * Each kind is one way Okta (or the path to it) fails in practice:
 *   rate-limit    429 E0000047, X-Rate-Limit-Remaining 0
 *   server-error  500 E0000009 (also Okta's answer to a query past its 30 s budget)
 *   html          an HTML error page (status 500 by default, or options.status, such as 404)
 *   slow          the normal response, sent after options.delayMs
 *   unauthorized  401 E0000011
 *   forbidden     403 E0000006 (a token whose admin lacks the role)
 *   reset         the connection is destroyed without a response
 */
export const FAULT_KINDS = ['rate-limit', 'server-error', 'html', 'slow', 'unauthorized', 'forbidden', 'reset'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultOptions {
  /** For `slow`: how long to hold the response (default 2000 ms). */
  delayMs?: number;
  /** For `html`: the status of the HTML page (default 500). */
  status?: number;
}

export interface Fault {
  kind: FaultKind;
  delayMs: number;
  status: number;
}

export class FaultQueue {
  private readonly queue: { fault: Fault; remaining: number }[] = [];

  inject(kind: FaultKind, count: number, options: FaultOptions = {}): void {
    if (!FAULT_KINDS.includes(kind)) throw new TypeError(`unknown fault kind "${String(kind)}"; one of ${FAULT_KINDS.join(', ')}`);
    if (!Number.isInteger(count) || count < 0) throw new TypeError(`fault count must be a non-negative integer, got ${count}`);
    if (count === 0) return;
    this.queue.push({ fault: { kind, delayMs: options.delayMs ?? 2000, status: options.status ?? 500 }, remaining: count });
  }

  /** The fault for the request being handled, if one is pending. */
  take(): Fault | undefined {
    const head = this.queue[0];
    if (!head) return undefined;
    head.remaining--;
    if (head.remaining === 0) this.queue.shift();
    return head.fault;
  }
}
